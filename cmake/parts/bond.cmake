# bond: Nav2's bond protocol (ROS 2 bond/msg/Status on /bond) as a component's watchdog signal.
# The IDL includes ros2_messages.idl for std_msgs/Header; its generated header includes
# ros2_messages.h, generated beside it by vigil_ros2_types.
idlc_generate(TARGET vigil_bond_types FILES ${PROJECT_SOURCE_DIR}/src/dds/idl/bond_messages.idl
  INCLUDES ${PROJECT_SOURCE_DIR}/src/dds/idl NO_TYPE_INFO)
add_dependencies(vigil_bond_types_generate vigil_ros2_types_generate)
target_sources(vigil_core PRIVATE ${PROJECT_SOURCE_DIR}/src/dds/bond_watch.cpp)
target_link_libraries(vigil_core PUBLIC vigil_bond_types)

# One side of a bond, as a Nav2 node keeps it: for tests and for trying the feature.
add_executable(bond_peer ${PROJECT_SOURCE_DIR}/examples/bond_peer.cpp)
target_link_libraries(bond_peer PRIVATE CycloneDDS::ddsc vigil_bond_types vigil_ros2_types)

if(VIGIL_TESTS)
  target_sources(vigil_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/config/bond_config_test.cpp)
  target_sources(vigil_integration_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests/dds/bond_test.cpp)
  add_dependencies(vigil_integration_tests bond_peer)
endif()
