// Package hostcheck probes what the host offers berth: `berth check` prints
// its report. Every probe asks the kernel (a syscall tried, a namespace
// created in a throwaway child, a file of /proc or /sys read) rather than
// guessing from version numbers, and each result says both what the host
// has and what berth does with it. One file per group of probes.
package hostcheck
