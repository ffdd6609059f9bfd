# cmake/Packaging.cmake: the Debian package (CPack DEB), built by
# `make package` or `cpack` in a build folder.
#
# The package installs under prefix /usr whatever the build was configured
# with; Install.cmake works out /etc and the units' folder from it. After
# `dpkg -i`, the service is installed but neither enabled nor started: it
# needs a token first (docs/quickstart.md). The maintainer scripts create no
# user and no folder (the unit has DynamicUser=, StateDirectory= and
# ConfigurationDirectory=); they only tell a running systemd about the unit
# files, restart the service on upgrade if it runs, stop it on removal, and
# remove its state on purge.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME convex-provisioner)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "convex-provisioner")
set(CP_PACKAGE_MAINTAINER "convex-provisioner maintainers <maintainers@convex-provisioner.invalid>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_PACKAGE_CONTACT "${CP_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "keeps Convex projects and deployments equal to YAML files")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
convex-provisioner reads a folder of YAML files that declare a Convex team's
projects and cloud deployments, lists what exists through the Convex
Management API, and creates or deletes projects and deployments until the
two agree. It runs as a systemd service that reconciles on a timer and on
every change of the files, and as a one-shot command (validate, plan,
apply) for pull-request checks. Deletes are guarded: prune modes, a cap
per run, protect marks and a ledger of what it created.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
# Install with DESTDIR into the staging tree, so the absolute paths
# (/etc/..., /lib/systemd/system) land inside the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# git for the example git-sync companion units; bash-completion loads the
# completion installed under /usr/share/bash-completion/completions.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "git, bash-completion")

# Dependencies: read off the binary by dpkg-shlibdeps (package dpkg-dev)
# when it is there, else the list of libraries it links, by hand.
find_program(CP_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CP_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # Loaded with dlopen by the status endpoint, so not read off the binary.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libmicrohttpd12")
else()
  message(STATUS "dpkg-shlibdeps not found (package dpkg-dev): .deb dependencies listed by hand")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libuv1, libcurl4, libyaml-0-2, libcjson1, libmicrohttpd12")
endif()

# Maintainer scripts and conffiles, written into the build folder.
set(CP_DEB_DIR "${CMAKE_BINARY_DIR}/pkg/debian")
file(WRITE "${CP_DEB_DIR}/conffiles" "/etc/convex-provisioner/config.yaml\n")
file(WRITE "${CP_DEB_DIR}/postinst" [[#!/bin/sh
# postinst: tell a running systemd about the units; after an upgrade,
# restart the daemon if it was running. Nothing is enabled or started on a
# first install: the service needs /etc/convex-provisioner/token first.
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ -n "$2" ]; then
		systemctl try-restart convex-provisioner.service || true
	fi
fi
exit 0
]])
file(WRITE "${CP_DEB_DIR}/prerm" [[#!/bin/sh
# prerm: on removal, stop and disable the units (they are about to go).
set -e
if [ "$1" = remove ]; then
	if [ -d /run/systemd/system ]; then
		systemctl stop convex-provisioner.service \
		    convex-provisioner-git-sync.timer \
		    convex-provisioner-git-sync.service 2>/dev/null || true
	fi
	systemctl --no-reload disable convex-provisioner.service \
	    convex-provisioner-git-sync.timer >/dev/null 2>&1 || true
fi
exit 0
]])
file(WRITE "${CP_DEB_DIR}/postrm" [[#!/bin/sh
# postrm: forget the removed units; on purge, remove the daemon's state
# (ledger, lock, actions.jsonl) as Debian's purge promises. The token and
# any desired-state files an operator put in /etc/convex-provisioner stay.
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/private/convex-provisioner
	rm -rf /var/lib/convex-provisioner
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
]])
file(CHMOD "${CP_DEB_DIR}/postinst" "${CP_DEB_DIR}/prerm" "${CP_DEB_DIR}/postrm"
  PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
              WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CP_DEB_DIR}/conffiles;${CP_DEB_DIR}/postinst;${CP_DEB_DIR}/prerm;${CP_DEB_DIR}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")

include(CPack)
