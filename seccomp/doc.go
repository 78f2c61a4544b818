// Package seccomp turns the OCI linux.seccomp section into a libseccomp
// filter and reports the libseccomp version berth is linked with.
package seccomp
