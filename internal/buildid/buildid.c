// The constructors' reader, compiled into this package too (buildid.go),
// under another name: berth links both packages.
#define berth_build_id berth_build_id_go
#include "../../libcontainer/executor/buildid.c"
