#pragma once
// A DDS type that knows nothing of its samples: it takes the serialized bytes (CDR header and
// payload) as they arrive, whatever the publisher's type. With it vigild can subscribe to any
// topic by its type name alone, which is what a topic monitor needs: it counts and times
// messages of types it was never compiled with.
//
// Cyclone matches a reader to a writer by topic name and type name when the reader carries no
// type information (as here), so the type name must be the publisher's (from DCPSPublication).
// Every sample is one instance: keys are not interpreted. Whether the topic is keyed must still
// be the publisher's (it is part of each endpoint's id, and Cyclone delivers keyed data only to
// keyed readers).
#include <dds/dds.h>

#include <cstdint>
#include <span>
#include <string>

namespace vigil::dds {

// Creates the topic `topic_name` on `participant` with the raw type named `type_name`.
// Returns the topic entity or a negative DDS return code.
dds_entity_t create_raw_topic(dds_entity_t participant, const std::string& topic_name,
                              const std::string& type_name, bool keyed);

// The bytes of one sample taken with dds_takecdr from a reader of a raw topic: the 4-byte
// encapsulation header followed by the payload. Valid until the serdata is unreferenced.
std::span<const std::uint8_t> raw_bytes(const struct ddsi_serdata* sample);

}  // namespace vigil::dds
