# cmake/Install.cmake: what `make install`, `cmake --install` and CPack place
# besides the binary (daemon/CMakeLists.txt installs that): the systemd units,
# the example settings file, the empty desired-state folder, the man pages
# (built here from scdoc sources), the bash completion, the docs and the
# examples.
#
# Paths that depend on the prefix (the units' folder, /etc, the ExecStart=
# line) are worked out when installing, not when configuring: CPack installs
# with prefix /usr whatever the build was configured with, and
# `cmake --install --prefix P` may differ from CMAKE_INSTALL_PREFIX too.
#
# Where the units go: for prefix /usr, the folder systemd.pc names
# (`systemdsystemunitdir`, /lib/systemd/system on Debian 12), so the .deb
# puts them where the distribution's own units are. For any other prefix,
# the same folder moved under the prefix (/usr/local/lib/systemd/system),
# which systemd also reads, so a `make install` into /usr/local, a private
# prefix or a DESTDIR staging tree never writes outside its prefix.
# CP_SYSTEMD_UNITDIR overrides what pkg-config says.
#
# Where the settings go: the rule of GNUInstallDirs for SYSCONFDIR, applied
# to the install prefix: /etc for prefix / or /usr, /etc/opt/P for /opt/P,
# P/etc otherwise. The daemon itself always reads
# /etc/convex-provisioner/config.yaml: after a /usr/local install, copy the
# example there (docs/install.md). An existing config.yaml is never
# overwritten by `make install`; the pristine example also lands in the doc
# folder.

# ---- man pages (scdoc)
find_program(CP_SCDOC scdoc)
if(NOT CP_SCDOC)
  message(FATAL_ERROR "scdoc not found: install the Debian package 'scdoc' (or run 'make deps') to build the man pages")
endif()

set(CP_MAN_OUTPUTS "")
foreach(page convex-provisioner.8 convex-provisioner.yaml.5)
  string(REGEX MATCH "[0-9]$" section "${page}")
  set(in "${PROJECT_SOURCE_DIR}/docs/man/${page}.scd")
  set(out "${CMAKE_BINARY_DIR}/man/man${section}/${page}")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/man/man${section}"
    COMMAND sh -c "\"$1\" <\"$2\" >\"$3.tmp\" && mv \"$3.tmp\" \"$3\"" scdoc "${CP_SCDOC}" "${in}" "${out}"
    MAIN_DEPENDENCY "${in}"
    COMMENT "scdoc ${page}"
    VERBATIM)
  list(APPEND CP_MAN_OUTPUTS "${out}")
  install(FILES "${out}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${section}")
endforeach()
add_custom_target(man ALL DEPENDS ${CP_MAN_OUTPUTS})

# ---- bash completion: bash-completion loads completions/NAME on first use
# from $XDG_DATA_DIRS (/usr/share, /usr/local/share), so the same relative
# folder serves the .deb (prefix /usr) and a /usr/local install.
install(FILES "${PROJECT_SOURCE_DIR}/scripts/bash-completion/convex-provisioner"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# ---- the units' folder
if(NOT CP_SYSTEMD_UNITDIR)
  pkg_get_variable(CP_PC_UNITDIR systemd systemdsystemunitdir)
  if(NOT CP_PC_UNITDIR)
    set(CP_PC_UNITDIR /lib/systemd/system)
    message(STATUS "systemd.pc not found: units go to ${CP_PC_UNITDIR} (prefix /usr)")
  endif()
  set(CP_SYSTEMD_UNITDIR "${CP_PC_UNITDIR}" CACHE PATH
      "systemd system unit folder for prefix /usr (from pkg-config systemd)")
endif()

# The unit for this build's prefix, for the tests (ExecStart= as configured).
set(CP_UNIT_IN "${PROJECT_SOURCE_DIR}/systemd/convex-provisioner.service.in")
configure_file("${CP_UNIT_IN}" "${CMAKE_BINARY_DIR}/systemd/convex-provisioner.service" @ONLY)
# An empty folder to install as /etc/convex-provisioner/desired.
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/pkg/desired")

# ---- everything that depends on the install prefix
install(CODE "
set(CP_SRC \"${PROJECT_SOURCE_DIR}\")
set(CP_BIN \"${CMAKE_BINARY_DIR}\")
set(CP_UNIT_IN \"${CP_UNIT_IN}\")
set(CP_PKG_UNITDIR \"${CP_SYSTEMD_UNITDIR}\")
set(CP_REL_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(CP_REL_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
set(CP_REL_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
")
install(CODE [[
  # CMAKE_INSTALL_PREFIX here is the one of this install run.
  set(prefix "${CMAKE_INSTALL_PREFIX}")
  string(REGEX REPLACE "/+$" "" prefix "${prefix}")
  if(IS_ABSOLUTE "${CP_REL_BINDIR}")
    set(CMAKE_INSTALL_FULL_BINDIR "${CP_REL_BINDIR}")
  else()
    set(CMAKE_INSTALL_FULL_BINDIR "${prefix}/${CP_REL_BINDIR}")
  endif()
  if(IS_ABSOLUTE "${CP_REL_SYSCONFDIR}")
    set(sysconf "${CP_REL_SYSCONFDIR}")
  elseif(prefix STREQUAL "" OR prefix STREQUAL "/usr")
    set(sysconf "/etc")
  elseif(prefix MATCHES "^/opt/")
    set(sysconf "/etc${prefix}")
  else()
    set(sysconf "${prefix}/${CP_REL_SYSCONFDIR}")
  endif()
  if(prefix STREQUAL "/usr")
    set(unitdir "${CP_PKG_UNITDIR}")
  else()
    string(REGEX REPLACE "^/usr/" "/" unitdir "${CP_PKG_UNITDIR}")
    set(unitdir "${prefix}${unitdir}")
  endif()
  if(IS_ABSOLUTE "${CP_REL_DOCDIR}")
    set(docdir "${CP_REL_DOCDIR}")
  else()
    set(docdir "${prefix}/${CP_REL_DOCDIR}")
  endif()

  # The units, the main one with ExecStart= naming this prefix's binary.
  # One staging folder per prefix, so two installs at once do not collide.
  string(MD5 tag "${prefix}")
  set(stage "${CP_BIN}/systemd/install-${tag}")
  configure_file("${CP_UNIT_IN}" "${stage}/convex-provisioner.service" @ONLY)
  file(INSTALL DESTINATION "${unitdir}" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES "${stage}/convex-provisioner.service"
          "${CP_SRC}/systemd/convex-provisioner-git-sync.service"
          "${CP_SRC}/systemd/convex-provisioner-git-sync.timer")

  # The settings file, never over one already there (an operator's edits
  # survive a reinstall; dpkg handles it as a conffile in the .deb).
  set(conf "${sysconf}/convex-provisioner/config.yaml")
  if(EXISTS "$ENV{DESTDIR}${conf}")
    message(STATUS "Keeping: $ENV{DESTDIR}${conf} (the example is in ${docdir})")
  else()
    file(INSTALL DESTINATION "${sysconf}/convex-provisioner" TYPE FILE
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
      RENAME config.yaml FILES "${CP_SRC}/config/convex-provisioner.yaml")
  endif()
  file(INSTALL DESTINATION "${sysconf}/convex-provisioner" TYPE DIRECTORY
    DIR_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE
    FILES "${CP_BIN}/pkg/desired")

  # The examples, their yaml-language-server modelines pointing at the
  # schema where it is installed (the doc folder, not ../../docs).
  file(GLOB_RECURSE examples RELATIVE "${CP_SRC}/config/examples"
    "${CP_SRC}/config/examples/*.yaml" "${CP_SRC}/config/examples/*.yml")
  list(SORT examples)
  foreach(rel IN LISTS examples)
    if(rel MATCHES "(^|/)\\.")
      continue()
    endif()
    get_filename_component(sub "${rel}" DIRECTORY)
    get_filename_component(name "${rel}" NAME)
    set(dest "${docdir}/examples")
    if(sub)
      set(dest "${dest}/${sub}")
    endif()
    file(RELATIVE_PATH schema "${dest}" "${docdir}/desired-state.schema.json")
    file(READ "${CP_SRC}/config/examples/${rel}" text)
    string(REGEX REPLACE "(yaml-language-server:[ \t]*\\$schema=)[^\n]*"
      "\\1${schema}" text "${text}")
    file(WRITE "${stage}/examples/${rel}" "${text}")
    file(INSTALL DESTINATION "${dest}" TYPE FILE
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
      FILES "${stage}/examples/${rel}")
  endforeach()
  file(INSTALL DESTINATION "${docdir}" TYPE FILE
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
    FILES "${CP_SRC}/config/convex-provisioner.yaml")
]])

# ---- docs: every page of docs/ and the schema (not the man sources)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
  FILES_MATCHING PATTERN "*.md" PATTERN "*.json"
  PATTERN "man" EXCLUDE)
