/* SPDX-License-Identifier: MIT */
/* beacon-probe: who is on this LAN, right now. A thin shim. */
#include "probe.h"

int
main(int argc, char **argv)
{
	struct probe_config c;
	bool done;
	int rc = probe_config_parse(argc, argv, &c, &done);

	if (rc != 0 || done)
		return rc;
	return probe_run(&c);
}
