#!/usr/bin/env bash
# tests/e2e/package.sh: `cmake --install` with DESTDIR (prefixes /usr and /usr/local) and the .deb from cpack place exactly the files docs/install.md lists; the package's control fields, conffiles and maintainer scripts.
set -eu
: "${CP_BUILD_DIR:?CP_BUILD_DIR must be set (ctest sets it)}"
: "${CP_SOURCE_DIR:?CP_SOURCE_DIR must be set (ctest sets it)}"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for t in cmake cpack dpkg-deb dpkg readelf; do
	command -v "$t" >/dev/null || fail "$t not found (make deps)"
done
B=$CP_BUILD_DIR
S=$CP_SOURCE_DIR
[ -f "$B/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $B"

work=$(mktemp -d "${TMPDIR:-/tmp}/cp-pkg.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- what docs/install.md promises (the table between the markers), for
# prefix /usr, expanded to one path per line: files, and folders ending in /.
sed -n '/<!-- files: begin/,/<!-- files: end/p' "$S/docs/install.md" |
	sed -n 's/^| `\(\/[^`]*\)` |.*/\1/p' >"$work/documented"
[ "$(wc -l <"$work/documented")" -ge 10 ] ||
	fail "docs/install.md: the file table between the markers is missing or short"
: >"$work/expect.usr"
while IFS= read -r p; do
	case $p in
	*/examples/)
		echo "$p" >>"$work/expect.usr"
		(cd "$S/config/examples" && find . -type f \( -name '*.yaml' -o -name '*.yml' \) \
			! -path '*/.*' | sed "s|^\./|$p|") >>"$work/expect.usr"
		;;
	*'/*.md')
		for f in "$S"/docs/*.md; do
			echo "${p%\*.md}$(basename "$f")"
		done >>"$work/expect.usr"
		;;
	*) echo "$p" >>"$work/expect.usr" ;;
	esac
done <"$work/documented"
sort -u -o "$work/expect.usr" "$work/expect.usr"
grep -qx '/usr/share/doc/convex-provisioner/install.md' "$work/expect.usr" ||
	fail "docs pages not expanded from the table"

# The same list moved under prefix /usr/local, as docs/install.md says.
sed -e 's|^/usr/|/usr/local/|' -e 's|^/etc/|/usr/local/etc/|' \
	-e 's|^/lib/systemd/|/usr/local/lib/systemd/|' "$work/expect.usr" |
	sort -u >"$work/expect.local"

# tree_list ROOT: every file (and folder with a trailing /) under ROOT, as
# absolute paths, leaving out the folders that only hold other entries.
tree_list() {
	(cd "$1" && find . -mindepth 1 \( -type f -printf '/%P\n' \) -o \
		\( -type d -empty -printf '/%P/\n' \)) | sort -u
}

# check_tree ROOT EXPECTED WHAT: the files under ROOT are the expected ones
# (folders in the list only need to exist).
check_tree() {
	local root=$1 expect=$2 what=$3 p
	while IFS= read -r p; do
		case $p in
		*/) [ -d "$root$p" ] || fail "$what: folder $p missing" ;;
		*) [ -f "$root$p" ] || fail "$what: $p missing" ;;
		esac
	done <"$expect"
	tree_list "$root" | while IFS= read -r p; do
		case $p in
		*/) grep -qxF "$p" "$expect" || fail "$what: undocumented empty folder $p" ;;
		*) grep -qxF "$p" "$expect" || fail "$what: $p is installed but docs/install.md does not list it" ;;
		esac
	done
}

# check_layout ROOT PREFIX: contents that go beyond being there.
check_layout() {
	local root=$1 prefix=$2 etc unitdir docdir f rel schema target
	case $prefix in
	/usr) etc=/etc unitdir=/lib/systemd/system ;;
	*) etc=$prefix/etc unitdir=$prefix/lib/systemd/system ;;
	esac
	docdir=$prefix/share/doc/convex-provisioner
	grep -qxF "ExecStart=$prefix/bin/convex-provisioner run" \
		"$root$unitdir/convex-provisioner.service" ||
		fail "prefix $prefix: the unit does not start $prefix/bin/convex-provisioner"
	grep -q '@[A-Z_]*@' "$root$unitdir/convex-provisioner.service" &&
		fail "prefix $prefix: the unit still holds @VARIABLES@"
	cmp -s "$S/config/convex-provisioner.yaml" "$root$etc/convex-provisioner/config.yaml" ||
		fail "prefix $prefix: config.yaml is not the example"
	cmp -s "$S/systemd/convex-provisioner-git-sync.timer" \
		"$root$unitdir/convex-provisioner-git-sync.timer" ||
		fail "prefix $prefix: git-sync timer differs from the source"
	[ -x "$root$prefix/bin/convex-provisioner" ] || fail "prefix $prefix: binary not executable"
	# The examples' modelines point at the installed schema.
	find "$root$docdir/examples" -type f | while IFS= read -r f; do
		schema=$(sed -n 's/^#[[:space:]]*yaml-language-server:[[:space:]]*\$schema=//p' "$f")
		[ -n "$schema" ] || fail "prefix $prefix: ${f#"$root"} has no modeline"
		target=$(cd "$(dirname "$f")" && realpath -m "$schema")
		[ "$target" = "$root$docdir/desired-state.schema.json" ] ||
			fail "prefix $prefix: modeline of ${f#"$root"} points at $schema"
		rel=${f#"$root$docdir/examples/"}
		# Apart from the modeline, the example is the source file.
		diff <(grep -v 'yaml-language-server' "$S/config/examples/$rel") \
			<(grep -v 'yaml-language-server' "$f") >/dev/null ||
			fail "prefix $prefix: examples/$rel differs from the source"
	done
}

# ---- 1. DESTDIR installs
for prefix in /usr /usr/local; do
	root=$work/destdir${prefix//\//_}
	DESTDIR=$root cmake --install "$B" --prefix "$prefix" >"$work/install.log" 2>&1 ||
		{ cat "$work/install.log" >&2; fail "cmake --install --prefix $prefix failed"; }
	if [ "$prefix" = /usr ]; then exp=$work/expect.usr; else exp=$work/expect.local; fi
	check_tree "$root" "$exp" "DESTDIR install, prefix $prefix"
	check_layout "$root" "$prefix"
	echo "install: prefix $prefix: $(wc -l <"$exp") documented entries in place, nothing else"
done
# Nothing outside the prefix for /usr/local.
outside=$(cd "$work/destdir_usr_local" && find . -mindepth 1 -maxdepth 1 ! -name usr)
[ -z "$outside" ] || fail "prefix /usr/local: installed outside the prefix: $outside"
outside=$(cd "$work/destdir_usr_local/usr" && find . -mindepth 1 -maxdepth 1 ! -name local)
[ -z "$outside" ] || fail "prefix /usr/local: installed outside the prefix: $outside"

# A second install keeps an edited settings file.
conf=$work/destdir_usr/etc/convex-provisioner/config.yaml
echo "interval: 5m  # edited by the operator" >>"$conf"
cp "$conf" "$work/edited"
DESTDIR=$work/destdir_usr cmake --install "$B" --prefix /usr >"$work/install.log" 2>&1 ||
	{ cat "$work/install.log" >&2; fail "second cmake --install failed"; }
cmp -s "$conf" "$work/edited" || fail "a second install overwrote an edited config.yaml"
echo "install: a second install keeps an edited config.yaml"

# ---- 2. the .deb
(cd "$B" && cpack -G DEB -B "$work/pkg") >"$work/cpack.log" 2>&1 ||
	{ cat "$work/cpack.log" >&2; fail "cpack failed"; }
set -- "$work"/pkg/*.deb
[ $# -eq 1 ] && [ -f "$1" ] || fail "cpack made no single .deb: $*"
deb=$1
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "convex-provisioner_${version}_${arch}.deb" ] ||
	fail "package file named $(basename "$deb")"

# File list (dpkg-deb -c), owners and modes.
dpkg-deb -c "$deb" >"$work/contents" || fail "dpkg-deb -c failed"
mkdir "$work/x"
dpkg-deb -x "$deb" "$work/x"
check_tree "$work/x" "$work/expect.usr" ".deb"
check_layout "$work/x" /usr
awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$work/contents" >&2 ||
	fail ".deb holds files not owned by root/root"
mode() { awk -v p="./${1#/}" '$6 == p { print $1 }' "$work/contents"; }
[ "$(mode /usr/bin/convex-provisioner)" = "-rwxr-xr-x" ] || fail "binary mode $(mode /usr/bin/convex-provisioner)"
[ "$(mode /etc/convex-provisioner/config.yaml)" = "-rw-r--r--" ] || fail "config.yaml mode"
[ "$(mode /lib/systemd/system/convex-provisioner.service)" = "-rw-r--r--" ] || fail "unit mode"
[ "$(mode /etc/convex-provisioner/desired/)" = "drwxr-xr-x" ] || fail "desired/ mode"
[ "$(mode /usr/share/bash-completion/completions/convex-provisioner)" = "-rw-r--r--" ] ||
	fail "bash completion mode $(mode /usr/share/bash-completion/completions/convex-provisioner)"
echo "deb: $(grep -c '' "$work/contents") entries, every documented file, root-owned"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = convex-provisioner ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), want $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
depends=$(field Depends)
# Every library the binaries link is a dependency, named by its package.
for b in "$work/x/usr/bin/convex-provisioner" "$work/x/usr/bin/convex-api-sim"; do
	readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while IFS= read -r so; do
		path=$(ldconfig -p | awk -v so="$so" '$1 == so { print $NF; exit }')
		[ -n "$path" ] || fail "$so (needed by $(basename "$b")) not found by ldconfig"
		pkg=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) ||
			true
		[ -n "$pkg" ] || pkg=$(dpkg -S "$path" | head -n 1 | cut -d: -f1)
		[ -n "$pkg" ] || fail "no package owns $path"
		case ", $depends," in
		*", $pkg "* | *", $pkg,"*) ;;
		*) fail "Depends lacks $pkg (for $so): $depends" ;;
		esac
	done
done
for pkg in libc6 libuv1 libcurl4 libyaml-0-2 libcjson1; do
	case ", $depends," in
	*", $pkg "* | *", $pkg,"*) ;;
	*) fail "Depends lacks $pkg: $depends" ;;
	esac
done
echo "deb: Depends: $depends"

# Control archive: conffiles and maintainer scripts.
dpkg-deb -e "$deb" "$work/ctl"
[ "$(cat "$work/ctl/conffiles")" = /etc/convex-provisioner/config.yaml ] ||
	fail "conffiles: $(cat "$work/ctl/conffiles")"
for s in postinst prerm postrm; do
	[ -x "$work/ctl/$s" ] || fail "$s missing or not executable"
	sh -n "$work/ctl/$s" || fail "$s: shell syntax error"
	head -n 1 "$work/ctl/$s" | grep -qx '#!/bin/sh' || fail "$s: not a /bin/sh script"
done
grep -q '\[ -d /run/systemd/system \]' "$work/ctl/postinst" &&
	grep -q 'systemctl daemon-reload' "$work/ctl/postinst" ||
	fail "postinst does not reload a running systemd"
grep -Eq 'useradd|adduser|groupadd|mkdir|systemctl (enable|start)' "$work/ctl/postinst" &&
	fail "postinst creates, enables or starts something"
# The scripts behave: run them against a scratch root where systemd is not
# running (PATH has a systemctl that records its calls).
mkdir -p "$work/fakebin"
printf '#!/bin/sh\necho "systemctl $*" >>"%s"\n' "$work/calls" >"$work/fakebin/systemctl"
chmod +x "$work/fakebin/systemctl"
PATH=$work/fakebin:$PATH sh "$work/ctl/postinst" configure >/dev/null ||
	fail "postinst configure failed"
if [ -d /run/systemd/system ]; then
	grep -q 'daemon-reload' "$work/calls" || fail "postinst did not reload a running systemd"
elif [ -s "$work/calls" ]; then
	fail "postinst called systemctl with systemd not running: $(cat "$work/calls")"
fi
PATH=$work/fakebin:$PATH sh "$work/ctl/prerm" remove >/dev/null || fail "prerm remove failed"
grep -q 'disable convex-provisioner.service' "$work/calls" || fail "prerm remove did not disable the unit"
echo "deb: conffiles and maintainer scripts ok"

# The packaged unit: hardened and starting the packaged binary.
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze security --offline=true --no-pager \
		--threshold=15 "$work/x/lib/systemd/system/convex-provisioner.service" 2>&1) ||
		{ echo "$out" >&2; fail "packaged unit rates above 1.5"; }
	echo "deb: packaged unit: $(printf '%s\n' "$out" | grep 'Overall exposure' | sed 's/^[^A-Za-z]*//')"
fi
echo "package: all checks passed"
