#include "dds/raw_cdr_type.hpp"

#include <dds/ddsi/ddsi_serdata.h>
#include <dds/ddsi/ddsi_sertype.h>
#include <dds/ddsi/q_radmin.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

// Cyclone's extension points are C structs of function pointers; the functions below fill them.
// Their contracts are those written in ddsi_sertype.h and ddsi_serdata.h (Cyclone 0.10).

namespace vigil::dds {
namespace {

// A sample as the application sees it, should anyone dds_take() a raw topic instead of
// dds_takecdr(): the bytes, owned by the sample.
struct RawSample {
  std::uint8_t* data;
  std::uint32_t size;
};

// The serialized sample; the bytes follow the struct in the same allocation.
struct RawSerdata {
  ddsi_serdata common;
  std::uint32_t size;
  std::uint8_t* bytes() { return reinterpret_cast<std::uint8_t*>(this + 1); }
  const std::uint8_t* bytes() const { return reinterpret_cast<const std::uint8_t*>(this + 1); }
};

RawSerdata* new_serdata(const ddsi_sertype* type, ddsi_serdata_kind kind, std::size_t size) {
  void* memory = std::malloc(sizeof(RawSerdata) + size);
  if (memory == nullptr) return nullptr;
  auto* d = new (memory) RawSerdata{};
  ddsi_serdata_init(&d->common, type, kind);
  d->size = static_cast<std::uint32_t>(size);
  return d;
}

const RawSerdata* raw(const ddsi_serdata* d) {
  return reinterpret_cast<const RawSerdata*>(d);
}

bool eqkey(const ddsi_serdata*, const ddsi_serdata*) {
  return true;  // keys are not interpreted: one instance
}

std::uint32_t get_size(const ddsi_serdata* d) {
  return raw(d)->size;
}

ddsi_serdata* from_ser(const ddsi_sertype* type, ddsi_serdata_kind kind, const nn_rdata* fragment,
                       std::size_t size) {
  RawSerdata* d = new_serdata(type, kind, size);
  if (d == nullptr) return nullptr;
  // Fragments may overlap; each one is copied from where the previous one ended.
  std::uint32_t offset = 0;
  for (; fragment != nullptr; fragment = fragment->nextfrag) {
    if (fragment->maxp1 <= offset) continue;
    const unsigned char* payload =
        NN_RMSG_PAYLOADOFF(fragment->rmsg, NN_RDATA_PAYLOAD_OFF(fragment));
    const std::uint32_t end =
        fragment->maxp1 > size ? static_cast<std::uint32_t>(size) : fragment->maxp1;
    if (end <= offset) break;
    std::memcpy(d->bytes() + offset, payload + (offset - fragment->min), end - offset);
    offset = end;
  }
  return &d->common;
}

ddsi_serdata* from_ser_iov(const ddsi_sertype* type, ddsi_serdata_kind kind,
                           ddsrt_msg_iovlen_t niov, const ddsrt_iovec_t* iov, std::size_t size) {
  RawSerdata* d = new_serdata(type, kind, size);
  if (d == nullptr) return nullptr;
  std::size_t offset = 0;
  for (ddsrt_msg_iovlen_t i = 0; i < niov && offset < size; ++i) {
    const std::size_t n = iov[i].iov_len < size - offset ? iov[i].iov_len : size - offset;
    std::memcpy(d->bytes() + offset, iov[i].iov_base, n);
    offset += n;
  }
  return &d->common;
}

ddsi_serdata* from_keyhash(const ddsi_sertype* type, const ddsi_keyhash*) {
  return &new_serdata(type, SDK_KEY, 0)->common;
}

ddsi_serdata* from_sample(const ddsi_sertype* type, ddsi_serdata_kind kind, const void* sample) {
  const auto* s = static_cast<const RawSample*>(sample);
  const std::size_t size = kind == SDK_DATA ? s->size : 0;
  RawSerdata* d = new_serdata(type, kind, size);
  if (d != nullptr && size > 0) std::memcpy(d->bytes(), s->data, size);
  return d == nullptr ? nullptr : &d->common;
}

void to_ser(const ddsi_serdata* d, std::size_t offset, std::size_t size, void* buffer) {
  std::memcpy(buffer, raw(d)->bytes() + offset, size);
}

ddsi_serdata* to_ser_ref(const ddsi_serdata* d, std::size_t offset, std::size_t size,
                         ddsrt_iovec_t* ref) {
  ref->iov_base = const_cast<std::uint8_t*>(raw(d)->bytes() + offset);
  ref->iov_len = static_cast<ddsrt_iov_len_t>(size);
  return ddsi_serdata_ref(d);
}

void to_ser_unref(ddsi_serdata* d, const ddsrt_iovec_t*) {
  ddsi_serdata_unref(d);
}

bool to_sample(const ddsi_serdata* d, void* sample, void** bufptr, void*) {
  if (bufptr != nullptr) return false;  // caller-provided buffers are not supported
  auto* s = static_cast<RawSample*>(sample);
  std::free(s->data);
  s->data = nullptr;
  s->size = 0;
  const RawSerdata* r = raw(d);
  if (r->size == 0) return true;
  s->data = static_cast<std::uint8_t*>(std::malloc(r->size));
  if (s->data == nullptr) return false;
  std::memcpy(s->data, r->bytes(), r->size);
  s->size = r->size;
  return true;
}

ddsi_serdata* to_untyped(const ddsi_serdata* d) {
  RawSerdata* key = new_serdata(d->type, SDK_KEY, 0);
  if (key == nullptr) return nullptr;
  key->common.type = nullptr;  // untyped, by contract
  return &key->common;
}

bool untyped_to_sample(const ddsi_sertype*, const ddsi_serdata*, void* sample, void**, void*) {
  auto* s = static_cast<RawSample*>(sample);
  std::free(s->data);
  s->data = nullptr;
  s->size = 0;
  return true;
}

void free_serdata(ddsi_serdata* d) {
  auto* r = reinterpret_cast<RawSerdata*>(d);
  r->~RawSerdata();
  std::free(r);
}

std::size_t print(const ddsi_sertype*, const ddsi_serdata* d, char* buffer, std::size_t size) {
  const int n = std::snprintf(buffer, size, "(%u bytes of CDR)", raw(d)->size);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

void get_keyhash(const ddsi_serdata*, ddsi_keyhash* keyhash, bool) {
  std::memset(keyhash->value, 0, sizeof keyhash->value);
}

ddsi_serdata_ops make_serdata_ops() {
  ddsi_serdata_ops ops{};
  ops.eqkey = eqkey;
  ops.get_size = get_size;
  ops.from_ser = from_ser;
  ops.from_ser_iov = from_ser_iov;
  ops.from_keyhash = from_keyhash;
  ops.from_sample = from_sample;
  ops.to_ser = to_ser;
  ops.to_ser_ref = to_ser_ref;
  ops.to_ser_unref = to_ser_unref;
  ops.to_sample = to_sample;
  ops.to_untyped = to_untyped;
  ops.untyped_to_sample = untyped_to_sample;
  ops.free = free_serdata;
  ops.print = print;
  ops.get_keyhash = get_keyhash;
  return ops;
}

const ddsi_serdata_ops kSerdataOps = make_serdata_ops();

void free_sertype(ddsi_sertype* type) {
  ddsi_sertype_fini(type);
  delete type;
}

void zero_samples(const ddsi_sertype*, void* samples, std::size_t count) {
  std::memset(samples, 0, count * sizeof(RawSample));
}

void realloc_samples(void** ptrs, const ddsi_sertype*, void* old, std::size_t old_count,
                     std::size_t count) {
  auto* samples = static_cast<RawSample*>(std::realloc(old, count * sizeof(RawSample)));
  if (samples == nullptr) std::abort();  // Cyclone's own sertypes abort here too
  if (count > old_count)
    std::memset(samples + old_count, 0, (count - old_count) * sizeof(RawSample));
  for (std::size_t i = 0; i < count; ++i) ptrs[i] = &samples[i];
}

void free_samples(const ddsi_sertype*, void** ptrs, std::size_t count, dds_free_op_t op) {
  if (count == 0) return;
  if ((op & DDS_FREE_CONTENTS_BIT) != 0) {
    for (std::size_t i = 0; i < count; ++i) {
      auto* s = static_cast<RawSample*>(ptrs[i]);
      std::free(s->data);
      s->data = nullptr;
      s->size = 0;
    }
  }
  if ((op & DDS_FREE_ALL_BIT) != 0) std::free(ptrs[0]);
}

bool equal(const ddsi_sertype*, const ddsi_sertype*) {
  return true;  // nothing beyond the type name, which Cyclone compares first
}

std::uint32_t hash(const ddsi_sertype*) {
  return 0;
}

std::size_t serialized_size(const ddsi_sertype*, const void* sample) {
  return static_cast<const RawSample*>(sample)->size;
}

bool serialize_into(const ddsi_sertype*, const void* sample, void* buffer, std::size_t size) {
  const auto* s = static_cast<const RawSample*>(sample);
  if (size < s->size) return false;
  std::memcpy(buffer, s->data, s->size);
  return true;
}

ddsi_sertype_ops make_sertype_ops() {
  ddsi_sertype_ops ops{};
  ops.version = ddsi_sertype_v0;
  ops.free = free_sertype;
  ops.zero_samples = zero_samples;
  ops.realloc_samples = realloc_samples;
  ops.free_samples = free_samples;
  ops.equal = equal;
  ops.hash = hash;
  ops.get_serialized_size = serialized_size;
  ops.serialize_into = serialize_into;
  return ops;
}

const ddsi_sertype_ops kSertypeOps = make_sertype_ops();

}  // namespace

dds_entity_t create_raw_topic(dds_entity_t participant, const std::string& topic_name,
                              const std::string& type_name, bool keyed) {
  auto* type = new ddsi_sertype{};
  ddsi_sertype_init_flags(type, type_name.c_str(), &kSertypeOps, &kSerdataOps,
                          keyed ? 0u : DDSI_SERTYPE_FLAG_TOPICKIND_NO_KEY);
  // Whatever the writer chose: ROS 2 writes XCDR1, newer DDS types XCDR2.
  type->allowed_data_representation =
      DDS_DATA_REPRESENTATION_FLAG_XCDR1 | DDS_DATA_REPRESENTATION_FLAG_XCDR2;
  ddsi_sertype* used = type;
  const dds_entity_t topic =
      dds_create_topic_sertype(participant, topic_name.c_str(), &used, nullptr, nullptr, nullptr);
  if (topic < 0) free_sertype(type);  // ownership passes to Cyclone only on success
  return topic;
}

std::span<const std::uint8_t> raw_bytes(const ddsi_serdata* sample) {
  const RawSerdata* r = raw(sample);
  return {r->bytes(), r->size};
}

}  // namespace vigil::dds
