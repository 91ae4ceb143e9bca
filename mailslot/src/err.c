/* SPDX-License-Identifier: MIT */
/* The text and the counter name for every mailslot_err, in one table. */
#include "mailslot/err.h"

#include <stddef.h>

static const struct {
	const char *name;
	const char *text;
} errs[MAILSLOT_E__COUNT] = {
	[MAILSLOT_OK] = {"ok", "success"},
	[MAILSLOT_E_TRUNCATED] = {"truncated", "datagram truncated"},
	[MAILSLOT_E_MSG_TYPE] = {"msg_type",
				 "NetBIOS datagram type is not 0x10, 0x11 "
				 "or 0x12"},
	[MAILSLOT_E_FRAGMENT] = {"fragment",
				 "NetBIOS datagram fragment (mailslots are "
				 "never fragmented)"},
	[MAILSLOT_E_DGM_LENGTH] = {"dgm_length",
				   "DGM_LENGTH larger than the datagram"},
	[MAILSLOT_E_NAME_LABEL] = {"name_label",
				   "NetBIOS name label is not 32 bytes long"},
	[MAILSLOT_E_NAME_ENCODING] = {"name_encoding",
				      "NetBIOS name not first-level encoded "
				      "(A..P)"},
	[MAILSLOT_E_NAME_SCOPE] = {"name_scope", "malformed NetBIOS scope"},
	[MAILSLOT_E_SMB_MAGIC] = {"smb_magic", "not an SMB message"},
	[MAILSLOT_E_SMB_COMMAND] = {"smb_command",
				    "SMB command is not TRANSACTION (0x25)"},
	[MAILSLOT_E_SMB_WORDCOUNT] = {"smb_wordcount",
				      "SMB WordCount is not 17"},
	[MAILSLOT_E_SMB_SETUP] = {"smb_setup", "SMB SetupCount is not 3"},
	[MAILSLOT_E_SMB_OPCODE] = {"smb_opcode",
				   "mailslot opcode is not 1 (write)"},
	[MAILSLOT_E_SMB_PARTIAL] = {"smb_partial",
				    "TotalDataCount differs from DataCount"},
	[MAILSLOT_E_SMB_DATA_RANGE] = {"smb_data_range",
				       "DataOffset/DataCount outside the "
				       "message"},
	[MAILSLOT_E_SMB_NAME] = {"smb_name",
				 "transaction name is not a "
				 "NUL-terminated \\MAILSLOT\\ path"},
	[MAILSLOT_E_NAME_INVALID] = {"name_invalid",
				     "invalid NetBIOS name (1 to 15 "
				     "printable characters)"},
	[MAILSLOT_E_NOSPACE] = {"nospace", "output buffer too small"},
	[MAILSLOT_E_TOO_BIG] = {"too_big", "message too large"},
	[MAILSLOT_E_UNC_PREFIX] = {"unc_prefix",
				   "mailslot name must start with \\\\"},
	[MAILSLOT_E_UNC_SERVER] = {"unc_server",
				   "invalid server part in mailslot name "
				   "(., *, a domain or a host)"},
	[MAILSLOT_E_UNC_MAILSLOT] = {"unc_mailslot",
				     "expected \\\\SERVER\\mailslot\\NAME"},
	[MAILSLOT_E_UNC_NAME] = {"unc_name", "invalid mailslot name"},
	[MAILSLOT_E_UNC_NOT_LOCAL] = {"unc_not_local",
				      "a mailslot is created as "
				      "\\\\.\\mailslot\\NAME"},
	[MAILSLOT_E_TIMEOUT] = {"timeout", "no message within the timeout"},
	[MAILSLOT_E_BUFFER_SMALL] = {"buffer_small",
				     "buffer smaller than the next message"},
	[MAILSLOT_E_PRIVILEGED_PORT] = {"privileged_port",
					"port below 1024 needs root or "
					"CAP_NET_BIND_SERVICE"},
	[MAILSLOT_E_RESOLVE] = {"resolve", "host name does not resolve"},
	[MAILSLOT_E_NO_INTERFACE] = {"no_interface",
				     "no usable IPv4 broadcast interface"},
	[MAILSLOT_E_BROADCAST_ADDR] = {"broadcast_addr",
				       "invalid broadcast address"},
	[MAILSLOT_E_NOT_ON_LINK] = {"not_on_link",
				    "address not on a subnet of that "
				    "interface"},
	[MAILSLOT_E_NOMEM] = {"nomem", "out of memory"},
	[MAILSLOT_E_SYSTEM] = {"system", "system error"},
};

const char *
mailslot_strerror(enum mailslot_err err)
{
	if ((unsigned)err >= MAILSLOT_E__COUNT || errs[err].text == NULL)
		return "unknown error";
	return errs[err].text;
}

const char *
mailslot_errname(enum mailslot_err err)
{
	if ((unsigned)err >= MAILSLOT_E__COUNT || errs[err].name == NULL)
		return "unknown";
	return errs[err].name;
}

const char *
mailslot_hint(enum mailslot_err err)
{
	switch (err) {
	case MAILSLOT_E_PRIVILEGED_PORT:
		return "run as root, or grant the program CAP_NET_BIND_SERVICE "
		       "(setcap cap_net_bind_service=+ep PATH), or use --port "
		       "with a port above 1023 on every host";
	case MAILSLOT_E_NO_INTERFACE:
		return "name one with --interface, or give --broadcast ADDR";
	case MAILSLOT_E_BROADCAST_ADDR:
		return "give a subnet's directed broadcast such as "
		       "198.18.0.255; 255.255.255.255 is never used";
	default:
		return "";
	}
}
