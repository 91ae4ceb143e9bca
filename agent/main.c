/* SPDX-License-Identifier: MIT */
/* beacon-agent: announce this host on the LAN. A thin shim. */
#include "agent.h"

int
main(int argc, char **argv)
{
	struct agent_config c;
	bool done;
	int rc = agent_config_parse(argc, argv, &c, &done);

	if (rc != 0 || done)
		return rc;
	return agent_run(&c);
}
