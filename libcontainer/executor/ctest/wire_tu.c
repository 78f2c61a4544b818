// The pure readers, as they are: the TLV reader, its tables, the sync
// message reader, the error records.
#include "../wire.c"
#include "../failrec.c"
#include "../wire_gen.c"
#include "../syncmsg.c"
#include "../buildid.c"
