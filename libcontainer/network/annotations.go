package network

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// AnnotationPrefix starts the config.json annotations that ask berth for its
// built-in veth networking (docs/networking.md).
const AnnotationPrefix = "run.berth.network."

// The annotation keys, each AnnotationPrefix plus a short name.
const (
	KeyBridge   = AnnotationPrefix + "bridge"
	KeyAddress  = AnnotationPrefix + "address"
	KeyGateway  = AnnotationPrefix + "gateway"
	KeyAddress6 = AnnotationPrefix + "address6"
	KeyGateway6 = AnnotationPrefix + "gateway6"
	KeyMTU      = AnnotationPrefix + "mtu"
)

// DefaultBridge is the bridge used when no bridge annotation names one.
const DefaultBridge = "berth0"

var knownKeys = []string{KeyBridge, KeyAddress, KeyGateway, KeyAddress6, KeyGateway6, KeyMTU}

// Veth is the built-in veth networking a container asks for: a veth pair
// whose host end is a port of Bridge and whose other end is the container's
// eth0 with the addresses and default routes below.
type Veth struct {
	Bridge string
	// Addr and Addr6 are the container's addresses with their prefix
	// length; either may be invalid (unset), not both.
	Addr, Addr6 netip.Prefix
	// Gateway and Gateway6 are the next hops of the default routes and the
	// addresses the bridge gets; valid exactly when the address is.
	Gateway, Gateway6 netip.Addr
	// MTU of the bridge (when berth creates it) and both veth ends; 0
	// leaves the kernel's default.
	MTU int
	// Key is the annotation that turned veth networking on, for messages.
	Key string
}

// AnnotationError is a bad run.berth.network.* annotation. It prints as
// specconv's field errors do: the JSON path, the value, what is wrong.
type AnnotationError struct {
	Key, Value, Msg string
}

func (e *AnnotationError) Error() string {
	return fmt.Sprintf("annotations[%q] %q: %s", e.Key, e.Value, e.Msg)
}

func badAnnotation(key, value, format string, args ...any) error {
	return &AnnotationError{Key: key, Value: value, Msg: fmt.Sprintf(format, args...)}
}

// ParseVeth reads the run.berth.network.* annotations. It returns nil when
// there are none: the container gets no built-in networking.
func ParseVeth(ann map[string]string) (*Veth, error) {
	if err := checkKeys(ann); err != nil {
		return nil, err
	}
	v := &Veth{Bridge: DefaultBridge}
	var err error
	if v.Addr, v.Gateway, err = parseFamily(ann, KeyAddress, KeyGateway, false); err != nil {
		return nil, err
	}
	if v.Addr6, v.Gateway6, err = parseFamily(ann, KeyAddress6, KeyGateway6, true); err != nil {
		return nil, err
	}
	switch {
	case v.Addr.IsValid():
		v.Key = KeyAddress
	case v.Addr6.IsValid():
		v.Key = KeyAddress6
	}
	for _, k := range []string{KeyBridge, KeyMTU} {
		if val, ok := ann[k]; ok && v.Key == "" {
			return nil, badAnnotation(k, val, "needs %s or %s (the container's address)", KeyAddress, KeyAddress6)
		}
	}
	if v.Key == "" {
		return nil, nil
	}
	if b, ok := ann[KeyBridge]; ok {
		if err := CheckName(b); err != nil || IsTemplate(b) {
			return nil, badAnnotation(KeyBridge, b, "not a bridge name (want up to 15 bytes without '/', ':', '%%' or spaces)")
		}
		v.Bridge = b
	}
	if m, ok := ann[KeyMTU]; ok {
		if v.MTU, err = parseMTU(m, v.Addr6.IsValid()); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checkKeys refuses unknown keys under the prefix: a typo such as
// "adress" would otherwise silently give a container no network.
func checkKeys(ann map[string]string) error {
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, AnnotationPrefix) || known(k) {
			continue
		}
		names := make([]string, len(knownKeys))
		for i, kk := range knownKeys {
			names[i] = strings.TrimPrefix(kk, AnnotationPrefix)
		}
		return badAnnotation(k, ann[k], "unknown berth network annotation (want %s followed by one of %s)",
			AnnotationPrefix, strings.Join(names, ", "))
	}
	return nil
}

func known(k string) bool {
	for _, kk := range knownKeys {
		if k == kk {
			return true
		}
	}
	return false
}

func parseMTU(s string, ipv6 bool) (int, error) {
	mtu, err := strconv.Atoi(s)
	if err != nil {
		return 0, badAnnotation(KeyMTU, s, "not a whole number of bytes")
	}
	low := 68 // the IPv4 minimum (RFC 791)
	if ipv6 {
		low = 1280 // the IPv6 minimum (RFC 8200)
	}
	if mtu < low || mtu > 65535 {
		return 0, badAnnotation(KeyMTU, s, "out of range (want %d to 65535)", low)
	}
	return mtu, nil
}
