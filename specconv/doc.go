// Package specconv turns an OCI bundle's config.json into a validated
// libcontainer.Config, and writes the template that `berth spec` prints.
//
// Everything a runtime can check before it clones a process is checked here,
// so that a bad bundle fails in the parent with one line naming the JSON path
// of the bad field and its value (`linux.namespaces[3].type "foo": unknown
// namespace type ...`) instead of failing half-way through container setup
// with an errno from deep inside init.
//
// The checks are deliberately about the shape and coherence of the spec:
// paths that must be absolute, names that must be known, settings that need a
// namespace the spec does not create. Whether the kernel accepts a value (a
// mount option, a cgroup limit, a seccomp rule) is left to the code that
// applies it; linux.resources and linux.seccomp are accepted as they are.
package specconv
