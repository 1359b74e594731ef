// vigil-keeper with a real vigild and a real component: vigild killed is started again and
// adopts the component; vigild hung (SIGSTOP) misses its watchdog and is replaced; SIGTERM to
// the keeper stops the robot in order and ends the keeper with vigild's status.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "integration/harness.hpp"
#include "process/spawn.hpp"

extern char** environ;

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

TEST(Keeper, RestartsAKilledOrHungVigildThatAdoptsTheRobotAndStopsItOnSigterm) {
  // Only the config, socket and requests of the harness: the keeper starts vigild.
  Vigild v(R"(
root:
  children:
    - name: worker
      command: [/bin/sleep, "3600"]
)");
  process::SpawnRequest request;
  request.argv = {bin("vigil-keeper"), "--watchdog", "2s",           "--backoff-max", "1s", "--",
                  bin("vigild"),       "--config",   v.config_path()};
  for (char** e = environ; *e != nullptr; ++e) request.env.emplace_back(*e);
  UniqueFd out(::open((v.dir() + "/keeper.out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  request.output_fd = out.get();
  auto keeper = process::spawn(request);
  ASSERT_TRUE(keeper.process.has_value()) << keeper.error.message;

  json status;
  auto vigild_and_worker = [&](pid_t not_vigild) {
    return v.poll_until(
        [&] {
          status = v.status();
          const bool up = status.value("ok", false) && status["daemon"].value("pid", 0) != 0 &&
                          status["daemon"].value("pid", 0) != not_vigild;
          return up && v.component("worker").value("state", "") == "running";
        },
        20s);
  };
  ASSERT_TRUE(vigild_and_worker(0)) << status.dump();
  const pid_t first = status["daemon"]["pid"];
  const pid_t worker = v.component("worker")["pid"];

  // Killed: started again, the worker adopted, not started twice.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(vigild_and_worker(first)) << status.dump();
  const pid_t second = status["daemon"]["pid"];
  EXPECT_EQ(v.component("worker")["pid"], worker);

  // Hung: no WATCHDOG=1 for 2 s, so killed and replaced.
  ASSERT_EQ(::kill(second, SIGSTOP), 0);
  ASSERT_TRUE(vigild_and_worker(second)) << status.dump();
  const pid_t third = status["daemon"]["pid"];
  EXPECT_EQ(v.component("worker")["pid"], worker);
  EXPECT_FALSE(process_alive(second));

  // SIGTERM: the robot is stopped and the keeper ends with vigild's clean exit.
  ASSERT_EQ(::kill(keeper.process->pid, SIGTERM), 0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PIDFD, static_cast<id_t>(keeper.process->pidfd.get()), &info, WEXITED), 0);
  EXPECT_EQ(info.si_code, CLD_EXITED);
  EXPECT_EQ(info.si_status, 0);
  EXPECT_FALSE(process_alive(third));
  EXPECT_FALSE(process_alive(worker));

  std::ifstream in(v.dir() + "/keeper.out");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("killed by signal 9"), std::string::npos) << log;
  EXPECT_NE(log.find("sent no WATCHDOG=1 for 2.0s: hung"), std::string::npos) << log;
}

}  // namespace
}  // namespace vigil::testing
