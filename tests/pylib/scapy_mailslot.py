# SPDX-License-Identifier: MIT
"""Mailslot datagrams built independently of our C code, from scapy's
NetBIOS and SMB layers (Debian python3-scapy). Only the scope, which
scapy's name field cannot hold, and the computed lengths are spliced by
hand."""
import struct

from scapy.layers.netbios import NBTDatagram
from scapy.layers.smb import (SMB_Header, SMBMailSlot,
                              SMBNetlogon_Protocol_Response_Header)


def suffix(b):
    return ((0x41 + (b >> 4)) << 8) | (0x41 + (b & 0x0f))


def scope_labels(scope):
    return b"".join(bytes([len(l)]) + l.encode() for l in scope.split("."))


def build(data, path="\\MAILSLOT\\x", padded=False, mtype=0x11, flags=0x02,
          dgm_id=1, src="WINBOX", dst="WORKGROUP", dst_suffix=0x00,
          scope=None, priority=0, timeout=None, src_ip="127.0.0.1"):
    """One mailslot write from scapy layers; only the scope (which scapy's
    name field cannot hold) and the computed lengths are spliced by hand."""
    name_end = 69 + len(path) + 1
    pad = (4 - name_end % 4) % 4 if padded else 0
    doff = name_end + pad
    if timeout is None:
        timeout = 0 if padded else 1000
    smb = (SMB_Header(Command=0x25, Flags=0x18 if padded else 0,
                      Flags2=0x0004 if padded else 0,
                      PIDLow=0xfeff if padded else 0) /
           SMBNetlogon_Protocol_Response_Header(
               TotalDataCount=len(data), MaxParamCount=2 if padded else 0,
               Flags3=2 if padded else 0,
               TimeOut1=timeout & 0xff, TimeOut2=(timeout >> 8) & 0xff,
               unused3=timeout >> 16,
               ParamOffset=doff if padded else 0,
               DataCount=len(data), DataOffset=doff, SetupCount=3) /
           SMBMailSlot(opcode=1, priority=priority, class_=2,
                       size=len(path) + 1 + pad + len(data), name=path))
    smb = bytes(smb) + b"\0" * pad + data
    nbt = NBTDatagram(Type=mtype, Flags=flags, ID=dgm_id,
                      SourceIP=src_ip, SourcePort=138,
                      SourceName=src, SUFFIX1=suffix(0),
                      DestinationName=dst, SUFFIX2=suffix(dst_suffix))
    head = bytearray(bytes(nbt))
    assert len(head) == 14 + 68
    if scope:
        lab = scope_labels(scope)
        head = head[:47] + lab + head[47:81] + lab + head[81:]
    struct.pack_into(">H", head, 10, len(head) - 14 + len(smb))
    return bytes(head) + smb


def wrap(smb, src="CAPTURE", dst="WORKGROUP", dst_suffix=0x1d, dgm_id=1,
         src_ip="127.0.0.1"):
    """An NBT datagram around an SMB mailslot write taken from elsewhere
    (the IPX and NetBEUI frames of the captures carry no NBT header)."""
    nbt = NBTDatagram(Type=0x11, Flags=0x02, ID=dgm_id, SourceIP=src_ip,
                      SourcePort=138, SourceName=src, SUFFIX1=suffix(0),
                      DestinationName=dst, SUFFIX2=suffix(dst_suffix))
    head = bytearray(bytes(nbt))
    struct.pack_into(">H", head, 10, len(head) - 14 + len(smb))
    return bytes(head) + smb


def capture_datagrams(pcap):
    """Every mailslot frame of a capture as (frame number, NBT datagram,
    wrapped): the UDP payload where there is one, else the frame's SMB
    part wrapped in an NBT datagram of our own."""
    from scapy.layers.inet import UDP
    from scapy.utils import rdpcap
    out = []
    for i, pkt in enumerate(rdpcap(pcap), 1):
        raw = bytes(pkt)
        at = raw.find(b"\xffSMB")
        if at < 0:
            continue
        if UDP in pkt and pkt[UDP].dport == 138:
            out.append((i, bytes(pkt[UDP].payload), False))
        else:
            out.append((i, wrap(raw[at:], dgm_id=i), True))
    return out
