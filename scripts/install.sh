#!/usr/bin/env bash
# Install evsed as a systemd service.
#
#   scripts/install.sh [options] BINARY
#
# BINARY is an evsed built for the target, e.g. bin/evsed-linux-arm64 from
# `make build-arm64` (or build-arm6 / build-arm7 for 32-bit Pis).
#
# Options:
#   --prefix DIR    install the binary in DIR/bin (default /usr/local)
#   --config FILE   config to install as /etc/evsed/evsed.yaml when none is
#                   there yet (default: scripts/evsed.yaml beside this script)
#   --as-root       run the service as root, with only CAP_SYS_RAWIO: periph
#                   drives a Raspberry Pi's PWM through /dev/mem and DMA,
#                   which an unprivileged user cannot open
#   --no-start      install and enable, but do not (re)start the service
#
# DESTDIR, when set, is prepended to every path written, and then nothing
# outside it is touched: no user is created, no ownership changed, no
# systemctl called. That is how the installer is tested, and how a package
# or an SD card image is staged.
#
# An existing config is never overwritten; the binary and the unit are.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix=/usr/local
config="$here/evsed.yaml"
as_root=0
start=1
binary=

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--config) config=${2:?--config needs a file}; shift 2 ;;
	--config=*) config=${1#*=}; shift ;;
	--as-root) as_root=1; shift ;;
	--no-start) start=0; shift ;;
	-h | --help) usage ;;
	-*) echo "install.sh: unknown option $1" >&2; usage ;;
	*)
		[ -z "$binary" ] || { echo "install.sh: more than one binary" >&2; usage; }
		binary=$1; shift ;;
	esac
done
[ -n "$binary" ] || { echo "install.sh: which binary? e.g. bin/evsed-linux-arm64" >&2; usage; }
[ -f "$binary" ] || { echo "install.sh: $binary: no such file" >&2; exit 1; }
[ -f "$config" ] || { echo "install.sh: $config: no such file" >&2; exit 1; }
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute: $prefix" >&2; exit 1 ;; esac

dest=${DESTDIR:-}
real=1
[ -z "$dest" ] || real=0
if [ "$real" = 1 ] && [ "$(id -u)" != 0 ]; then
	echo "install.sh: run as root (or set DESTDIR to stage into a directory)" >&2
	exit 1
fi

bindir=$prefix/bin
unitdir=/etc/systemd/system
user=evsed

say() { echo "install.sh: $*"; }

# The system user owns the data dir and nothing else.
if [ "$real" = 1 ] && ! id -u "$user" >/dev/null 2>&1; then
	say "creating system user $user"
	useradd --system --user-group --home-dir /var/lib/evsed --no-create-home \
		--shell /usr/sbin/nologin --comment "evsed charge-point agent" "$user"
fi
if [ "$real" = 1 ]; then
	# The hardware groups may not exist on every distribution.
	for g in gpio i2c spi dialout; do
		if getent group "$g" >/dev/null; then usermod -a -G "$g" "$user"; fi
	done
fi

# Stage the binary next to its target and rename it into place, so that a
# running evsed is never replaced by a half-written file.
install -d -m 0755 "$dest$bindir"
install -m 0755 "$binary" "$dest$bindir/.evsed.new"
mv -f "$dest$bindir/.evsed.new" "$dest$bindir/evsed"
say "installed $dest$bindir/evsed"

install -d -m 0755 "$dest/etc/evsed"
if [ -e "$dest/etc/evsed/evsed.yaml" ]; then
	say "kept the existing $dest/etc/evsed/evsed.yaml"
else
	install -m 0640 "$config" "$dest/etc/evsed/evsed.yaml"
	[ "$real" = 0 ] || chgrp "$user" /etc/evsed/evsed.yaml
	say "installed $dest/etc/evsed/evsed.yaml"
fi

install -d -m 0750 "$dest/var/lib/evsed"
[ "$real" = 0 ] || chown "$user:$user" /var/lib/evsed

install -d -m 0755 "$dest$unitdir"
sed "s|@BINDIR@|$bindir|g" "$here/evsed.service" >"$dest$unitdir/.evsed.service.new"
chmod 0644 "$dest$unitdir/.evsed.service.new"
mv -f "$dest$unitdir/.evsed.service.new" "$dest$unitdir/evsed.service"
say "installed $dest$unitdir/evsed.service"

dropin=$dest$unitdir/evsed.service.d/10-as-root.conf
if [ "$as_root" = 1 ]; then
	install -d -m 0755 "$(dirname "$dropin")"
	cat >"$dropin" <<'CONF'
# Written by install.sh --as-root: periph drives a Raspberry Pi's PWM
# through /dev/mem and DMA, which only root can open. Root keeps only
# CAP_SYS_RAWIO; the hardening of evsed.service stays.
[Service]
User=root
Group=root
SupplementaryGroups=
CapabilityBoundingSet=CAP_SYS_RAWIO
AmbientCapabilities=
CONF
	say "installed $dropin"
elif [ -e "$dropin" ]; then
	rm -f "$dropin"
	say "removed $dropin"
fi

if [ "$real" = 0 ]; then
	say "DESTDIR set: no user, ownership or systemctl changes made"
	exit 0
fi
systemctl daemon-reload
systemctl enable evsed.service
if [ "$start" = 1 ]; then
	systemctl restart evsed.service
	say "started; follow it with: journalctl -u evsed -f"
fi
