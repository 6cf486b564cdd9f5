#!/usr/bin/env bash
# Test install.sh in a temporary DESTDIR: the files it writes, that it keeps
# an existing config, the --as-root drop-in, its argument checks, and (when
# systemd-analyze is installed) that systemd accepts the unit.
#
#   scripts/install_test.sh
#
# Needs no root and touches nothing outside a temporary directory.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then echo "ok: $what"; else fail "$what"; fi
}
has() { grep -qxF -- "$2" "$1"; }

# A stand-in for the binary: install.sh copies it without running it.
printf '#!/bin/sh\necho evsed test\n' >"$tmp/evsed-bin"
chmod 0755 "$tmp/evsed-bin"
root=$tmp/root
install() { DESTDIR=$root "$here/install.sh" "$@" >"$tmp/out" 2>&1; }

install --prefix /opt/evsed "$tmp/evsed-bin" || { cat "$tmp/out" >&2; fail "install into DESTDIR"; }
unit=$root/etc/systemd/system/evsed.service
check "binary installed under the prefix, executable" test -x "$root/opt/evsed/bin/evsed"
check "binary is the given one" cmp -s "$tmp/evsed-bin" "$root/opt/evsed/bin/evsed"
check "config installed" cmp -s "$here/evsed.yaml" "$root/etc/evsed/evsed.yaml"
check "data dir created" test -d "$root/var/lib/evsed"
check "unit installed" test -f "$unit"
check "unit runs the prefix's binary" has "$unit" "ExecStart=/opt/evsed/bin/evsed run --config /etc/evsed/evsed.yaml"
check "no placeholder left" bash -c "! grep -q @BINDIR@ '$unit'"
for line in Type=notify Restart=always WatchdogSec=15 NoNewPrivileges=yes ProtectSystem=strict \
	ReadWritePaths=/var/lib/evsed "SupplementaryGroups=gpio i2c spi dialout"; do
	check "unit has $line" has "$unit" "$line"
done
check "unit bounds restarts" grep -q '^StartLimitBurst=' "$unit"
check "nothing staged left behind" bash -c "! find '$root' -name '.*.new' | grep -q ."
check "reports that nothing outside DESTDIR changed" grep -q "no user, ownership or systemctl" "$tmp/out"

# An existing config is kept; the binary and the unit are replaced.
echo "board: rpi-relay" >"$root/etc/evsed/evsed.yaml"
echo "# old" >>"$unit"
install --prefix /opt/evsed "$tmp/evsed-bin" || fail "second install"
check "existing config kept" has "$root/etc/evsed/evsed.yaml" "board: rpi-relay"
check "says it kept the config" grep -q "kept the existing" "$tmp/out"
check "unit replaced" bash -c "! grep -qxF '# old' '$unit'"

# --as-root adds a drop-in; a later install without it removes it.
dropin=$root/etc/systemd/system/evsed.service.d/10-as-root.conf
install --as-root "$tmp/evsed-bin" || fail "install --as-root"
check "--as-root drop-in" has "$dropin" "User=root"
check "--as-root keeps only CAP_SYS_RAWIO" has "$dropin" "CapabilityBoundingSet=CAP_SYS_RAWIO"
check "default prefix /usr/local" has "$unit" "ExecStart=/usr/local/bin/evsed run --config /etc/evsed/evsed.yaml"
install "$tmp/evsed-bin" || fail "install without --as-root"
check "drop-in removed without --as-root" test ! -e "$dropin"

# Bad command lines fail without writing anything.
bad=$tmp/bad
for args in "" "$tmp/none" "--prefix relative $tmp/evsed-bin" "--config $tmp/none $tmp/evsed-bin" "--bogus $tmp/evsed-bin"; do
	# shellcheck disable=SC2086 # split on purpose
	if DESTDIR=$bad "$here/install.sh" $args >/dev/null 2>&1; then
		fail "install.sh $args succeeded"
	else
		echo "ok: install.sh $args refused"
	fi
done
check "refused installs wrote nothing" test ! -e "$bad"

# systemd's own check of the unit (and the drop-in), with ExecStart
# and ExecStopPost pointing at the staged binary since systemd-analyze checks it exists.
if command -v systemd-analyze >/dev/null 2>&1; then
	install --as-root "$tmp/evsed-bin" || fail "install for verify"
	mkdir -p "$tmp/verify"
	sed -e "s|^ExecStart=/usr/local/bin/evsed|ExecStart=$root/usr/local/bin/evsed|" \
		-e "s|^ExecStopPost=/usr/local/bin/evsed|ExecStopPost=$root/usr/local/bin/evsed|" "$unit" >"$tmp/verify/evsed.service"
	cp -r "$root/etc/systemd/system/evsed.service.d" "$tmp/verify/"
	if systemd-analyze verify "$tmp/verify/evsed.service" >"$tmp/verify.out" 2>&1 && ! grep -q . "$tmp/verify.out"; then
		echo "ok: systemd-analyze verify"
	else
		cat "$tmp/verify.out" >&2
		fail "systemd-analyze verify"
	fi
else
	echo "skip: systemd-analyze not installed; unit not verified by systemd"
fi

if [ "$failures" -gt 0 ]; then
	echo "install_test: $failures failure(s)" >&2
	exit 1
fi
echo "install_test: PASS"
