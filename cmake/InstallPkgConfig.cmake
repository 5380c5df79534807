# Run by `cmake --install` (install(CODE) in the top CMakeLists.txt): writes mltrack.pc for the
# prefix being installed into. It is written at install time, not at configure time, because
# `cmake --install --prefix` may choose another prefix than CMAKE_INSTALL_PREFIX had then.
#
# Set by the caller: MLT_PC_TEMPLATE (cmake/mltrack.pc.in), MLT_PC_WORK_DIR (a folder of the build
# tree), MLT_PC_VERSION, MLT_PC_LIBDIR and MLT_PC_INCLUDEDIR (GNUInstallDirs' values, relative to
# the prefix unless the user made them absolute). CMAKE_INSTALL_PREFIX is the install's prefix.
set(MLT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
if(IS_ABSOLUTE "${MLT_PC_LIBDIR}")
  set(pc_install_dir "${MLT_PC_LIBDIR}/pkgconfig")
else()
  set(pc_install_dir "${CMAKE_INSTALL_PREFIX}/${MLT_PC_LIBDIR}/pkgconfig")
  set(MLT_PC_LIBDIR "\${prefix}/${MLT_PC_LIBDIR}")
endif()
if(NOT IS_ABSOLUTE "${MLT_PC_INCLUDEDIR}")
  set(MLT_PC_INCLUDEDIR "\${prefix}/${MLT_PC_INCLUDEDIR}")
endif()
# One work folder per prefix: installs into different prefixes from one build tree may run at once.
string(MD5 prefix_key "${CMAKE_INSTALL_PREFIX}")
set(pc_file "${MLT_PC_WORK_DIR}/${prefix_key}/mltrack.pc")
configure_file("${MLT_PC_TEMPLATE}" "${pc_file}" @ONLY)
# file(INSTALL) adds DESTDIR, prints the "-- Installing:" line and records the file in
# install_manifest.txt, like the install() rules.
file(INSTALL "${pc_file}" DESTINATION "${pc_install_dir}")
