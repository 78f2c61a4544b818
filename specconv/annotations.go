package specconv

// checkAnnotations applies the spec's one rule for annotations: keys must
// not be empty. Values are free-form, and org.opencontainers.* keys are left
// alone (they are reserved for the spec, and tools do set them).
func checkAnnotations(annotations map[string]string) error {
	if _, ok := annotations[""]; ok {
		return badField(`annotations[""]`, "empty key (the runtime-spec forbids it)")
	}
	return nil
}
