/* Compiles the generated descriptors under the private names of ros2_types_private.h. */
#include "ros2_types_private.h"

#include "ros2_messages.c"
