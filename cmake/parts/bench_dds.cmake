# vigild's topic monitors benchmark (bench/dds/run.sh): the publisher that floods N topics at
# R Hz with vigil_msgs/Heartbeat samples.
add_executable(topic_flood ${PROJECT_SOURCE_DIR}/bench/dds/topic_flood.cpp)
target_link_libraries(topic_flood PRIVATE CycloneDDS::ddsc vigil_ros2_types)
