/* libvigil_dds's private copy of the ROS 2 type descriptors (generated from
 * src/dds/idl/ros2_messages.idl into this library's build directory). Renamed, so that a
 * component linking libvigil_dds together with its own copy of these types (or vigild's) never
 * gets two definitions of one symbol. Include this instead of ros2_messages.h. */
#ifndef VIGIL_DDS_ROS2_TYPES_PRIVATE_H
#define VIGIL_DDS_ROS2_TYPES_PRIVATE_H

#define builtin_interfaces_msg_dds__Time__desc vigil_dds_private_Time_desc
#define std_msgs_msg_dds__Header__desc vigil_dds_private_Header_desc
#define diagnostic_msgs_msg_dds__KeyValue__desc vigil_dds_private_KeyValue_desc
#define diagnostic_msgs_msg_dds__DiagnosticStatus__desc vigil_dds_private_DiagnosticStatus_desc
#define diagnostic_msgs_msg_dds__DiagnosticArray__desc vigil_dds_private_DiagnosticArray_desc
#define vigil_msgs_msg_dds__SystemMode__desc vigil_dds_private_SystemMode_desc
#define vigil_msgs_msg_dds__Heartbeat__desc vigil_dds_private_Heartbeat_desc

#include "ros2_messages.h"

#endif
