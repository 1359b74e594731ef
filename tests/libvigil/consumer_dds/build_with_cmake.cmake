# ctest driver: configure, build and run tests/libvigil/consumer_dds against PREFIX (the
# installed libvigil, with vigil::dds), on loopback DDS.
file(REMOVE_RECURSE ${BUILD})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${BUILD} -G ${GENERATOR}
                        -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD} COMMAND_ERROR_IS_FATAL ANY)
get_filename_component(_repo ${SOURCE}/../../.. ABSOLUTE)
set(_dds_env CYCLONEDDS_URI=file://${_repo}/dds/cyclonedds-loopback.xml ROS_DOMAIN_ID=222)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${_dds_env} ${BUILD}/consumer_dds
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${_dds_env} ${BUILD}/consumer_dds_c
                COMMAND_ERROR_IS_FATAL ANY)
