// Package telemetry samples what a provisioner host's worker can see of a
// race from /proc: each Elasticsearch node's processes (CPU time, RSS,
// threads, disk I/O) and the host as a whole (CPU, memory, disks, network),
// in the spirit of Rally's `os` and `disk-io` telemetry devices (psutil).
// It reads and summarises; it must not start or stop processes, send
// anything anywhere, or know about races, actors or reports: the worker
// wires a Sampler's Summary into the race protocol.
//
// It is Linux-only. On other systems ReadProcess, GroupPIDs and ReadHost
// return an error wrapping errors.ErrUnsupported, and a Sampler records that
// error in its Summary. The parsers themselves are plain Go and are tested
// (and fuzzed) everywhere.
//
// # Processes: ReadProcess
//
// All from /proc/<pid>/..., where procRoot is normally "/proc":
//
//   - stat: the command (between the first '(' and the LAST ')', because
//     the command may itself contain spaces and parentheses), the state,
//     the process group (field 5), utime and stime (fields 14 and 15),
//     num_threads (field 20) and starttime (field 22). Times are in clock
//     ticks of USER_HZ, which Linux fixes at 100 Hz for userspace whatever
//     the kernel's internal HZ, so one tick is 10 ms. starttime (ticks after
//     boot) tells a reused PID from the process that had it before.
//   - status: VmRSS, the resident set in kB (absent, so 0, for kernel
//     threads and zombies).
//   - io: read_bytes and write_bytes, what the process made the storage
//     layer read and what it dirtied for writing (page-cache hits are not
//     reads; cancelled_write_bytes is not subtracted), like psutil's
//     io_counters. The file needs ptrace-read access to the process (same
//     user and dumpable, or CAP_SYS_PTRACE); when it cannot be read the
//     figures are absent (ProcessSample.IO is nil), never zero.
//
// An Elasticsearch 8+ node is two JVMs in one process group, the launcher
// (cli) and the server it starts, so a node is sampled as a group:
// GroupPIDs lists the live (not zombie) members of a group and a Target's
// figures are the sum over them.
//
// # The host: ReadHost
//
//   - /proc/stat, the aggregate "cpu" line: user, nice, system, idle,
//     iowait, irq, softirq, steal (guest time is already inside user and
//     nice). Busy is everything but idle and iowait, as psutil counts it;
//     the cpuN lines give the number of cores.
//   - /proc/meminfo: MemTotal and MemAvailable (on kernels before 3.14,
//     which lack MemAvailable, MemFree + Buffers + Cached).
//   - /proc/diskstats: sectors read and written of whole disks, always in
//     512-byte units whatever the device's sector size. Partitions (a name
//     that is another listed device plus digits or "p" and digits, as sda1
//     of sda or nvme0n1p2 of nvme0n1) are skipped so nothing counts twice;
//     so are loop, ram and zram devices and the stacked device-mapper (dm-)
//     and software RAID (md) devices, whose I/O lands on the disks below.
//   - /proc/net/dev: bytes received and sent per interface, except lo.
//     Virtual interfaces (bridges, veth) are kept: on a host with containers
//     their traffic also shows on the physical interface.
//   - /proc/uptime: time since boot, to tell whether a process started
//     after the previous sample.
//
// # Sampling: Sampler
//
// A Sampler reads the host and every Target once at Start, then every
// interval on one goroutine, and once more at Stop, and keeps no samples:
// only running figures (first and last values, sums of deltas, min and max)
// per target, per process of a target and per disk and interface, so its
// memory does not grow with the length of a race. Counters are summed
// sample to sample, so a counter that resets (a disk or interface that came
// back) or a process that is replaced is not counted as negative. A process
// that joins a group after the previous sample and started after it is
// counted from zero, as all its work is inside the window; one that exits
// between samples loses the work it did since the last sample (at most one
// interval's worth). A target with no live process at the end of the
// window keeps what was sampled and is flagged gone.
package telemetry
