package systemd

import (
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
	"github.com/rsprep/rsprep/realserver/persist"
)

// Hardening is the [Service] sandbox of every unit rsprep writes: what
// rsprep needs and nothing else. `systemd-analyze security --offline=true`
// rates a unit with it 1.6 (without: 9.6 UNSAFE); test/systemd-checks.sh
// fails any unit rsprep writes above 2.0. What stays open, and why:
//
//   - root, the host's network, its users: rsprep changes this network
//     namespace's addresses, routes and sysctls (no PrivateNetwork=, no
//     PrivateUsers=: capabilities in a user namespace do not reach the
//     host's network), and its records are root's, shared with rsprep run
//     by hand.
//   - CAP_NET_ADMIN (addresses, routes, neighbours, net sysctls) and
//     CAP_NET_RAW with AF_PACKET (--pin-gateway-arp's ARP probe); AF_NETLINK
//     (rtnetlink), AF_UNIX (the journal, sd_notify). No AF_INET/AF_INET6.
//   - /proc/sys/net writable inside an otherwise read-only /proc/sys
//     (ProtectKernelTunables=), so no ProcSubset=pid either.
//   - /run/rsprep writable: RuntimeDirectory= makes it (0700) and
//     RuntimeDirectoryPreserve= keeps it when the unit stops, because the
//     record there is what the next start, a `rsprep down` by hand or
//     another rsprep unit reads: removing it would forget what rsprep
//     changed and must undo.
//
// No module loading (ProtectKernelModules=, no CAP_SYS_MODULE): for tun,
// install writes /etc/modules-load.d/rsprep.conf and systemd-modules-load
// loads ipip and ip6_tunnel before sysinit.target, which the unit is
// ordered after by its default dependencies, so tunl0 exists when it
// starts and rsprep never runs modprobe. CAP_SYS_MODULE would let the
// unit load any code into the kernel, which is everything the rest of
// the sandbox takes away.
func Hardening() []*unit.UnitOption {
	opt := func(name, value string) *unit.UnitOption { return unit.NewUnitOption("Service", name, value) }
	return []*unit.UnitOption{
		opt("CapabilityBoundingSet", "CAP_NET_ADMIN CAP_NET_RAW"),
		opt("NoNewPrivileges", "yes"),
		opt("ProtectSystem", "strict"),
		opt("ProtectHome", "yes"),
		opt("PrivateTmp", "yes"),
		opt("PrivateDevices", "yes"),
		opt("DevicePolicy", "closed"),
		opt("PrivateMounts", "yes"),
		opt("PrivateIPC", "yes"),
		opt("ProtectKernelTunables", "yes"),
		opt("ReadWritePaths", "/proc/sys/net"),
		opt("ProtectKernelModules", "yes"),
		opt("ProtectKernelLogs", "yes"),
		opt("ProtectControlGroups", "yes"),
		opt("ProtectClock", "yes"),
		opt("ProtectHostname", "yes"),
		opt("ProtectProc", "invisible"),
		opt("RuntimeDirectory", strings.TrimPrefix(persist.DefaultStateDir, "/run/")),
		opt("RuntimeDirectoryMode", "0700"),
		opt("RuntimeDirectoryPreserve", "yes"),
		opt("RestrictAddressFamilies", "AF_UNIX AF_NETLINK AF_PACKET"),
		opt("IPAddressDeny", "any"),
		opt("RestrictNamespaces", "yes"),
		opt("RestrictRealtime", "yes"),
		opt("RestrictSUIDSGID", "yes"),
		opt("LockPersonality", "yes"),
		opt("MemoryDenyWriteExecute", "yes"),
		opt("SystemCallArchitectures", "native"),
		opt("SystemCallFilter", "@system-service"),
		opt("SystemCallFilter", "~@privileged @resources"),
		// A filtered call fails with EPERM instead of killing rsprep
		// mid-change (the Go runtime's best-effort setrlimit is one).
		opt("SystemCallErrorNumber", "EPERM"),
		opt("UMask", "0077"),
	}
}
