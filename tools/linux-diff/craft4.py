import socket, struct, subprocess, sys, time
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
subprocess.run(['ping', '-c', '1', '-W', '1', '198.18.50.1'], capture_output=True)
neigh = subprocess.run(['ip', 'neigh', 'show', '198.18.50.1'], capture_output=True, text=True).stdout.split()
dmac = bytes.fromhex(neigh[neigh.index('lladdr') + 1].replace(':', ''))
smac = bytes.fromhex(open('/sys/class/net/va/address').read().strip().replace(':', ''))
C = socket.inet_aton('198.18.60.9'); A = socket.inet_aton('198.18.50.2'); D = socket.inet_aton('198.18.50.1'); B = socket.inet_aton('198.18.51.2')
def echo(seq):
    b = struct.pack('!BBHHH', 8, 0, 0, 0x4321, seq) + b'y' * 16
    return b[:2] + struct.pack('!H', csum(b)) + b[4:]
def udp(dport, data=b'z' * 8):
    return struct.pack('!HHHH', 40000, dport, 8 + len(data), 0) + data
def ip4(src, dst, payload, proto=1, ttl=64, options=b'', flags=0, ident=0x1111, tot=None):
    ihl = 5 + len(options) // 4
    h = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, tot if tot is not None else ihl * 4 + len(payload), ident, flags, ttl, proto, 0, src, dst) + options
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload
cases = {
 'badopt_rr_ptr': ip4(A, D, echo(1), options=bytes([7, 7, 3, 0, 0, 0, 0, 0])),
 'badopt_len': ip4(A, D, echo(2), options=bytes([7, 9, 4, 0, 0, 0, 0, 0])),
 'badopt_ts_flag': ip4(A, D, echo(3), options=bytes([68, 8, 5, 2, 0, 0, 0, 0])),
 'src_is_d': ip4(D, D, echo(4)),
 'src_zero': ip4(socket.inet_aton('0.0.0.0'), D, echo(5)),
 'ttl0': ip4(A, D, echo(6), ttl=0),
 'fwd_ttl0': ip4(A, B, echo(7), ttl=0),
 'fwd_badopt': ip4(A, B, echo(8), options=bytes([7, 7, 3, 0, 0, 0, 0, 0])),
 'fwd_rr': ip4(A, B, echo(9), options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'fwd_ts': ip4(A, B, echo(10), options=bytes([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'unknown_opt': ip4(A, D, echo(11), options=bytes([0x9e, 4, 0, 0])),
 'fwd_unknown_opt': ip4(A, B, echo(12), options=bytes([0x9e, 4, 0, 0])),
 'src_bcast': ip4(socket.inet_aton('198.18.50.255'), D, echo(13)),
 'src_loop': ip4(socket.inet_aton('127.0.0.1'), D, echo(14)),
 'dst_loop': ip4(A, socket.inet_aton('127.0.0.1'), echo(15)),
 'ra_opt': ip4(A, D, echo(16), options=bytes([148, 4, 0, 0])),

 'rr_misaligned': ip4(A, D, echo(20), options=bytes([7, 11, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'ts_misaligned': ip4(A, D, echo(21), options=bytes([68, 12, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'tsaddr_partial': ip4(A, D, echo(22), options=bytes([68, 8, 5, 1, 0, 0, 0, 0])),
 'rr_len2': ip4(A, D, echo(23), options=bytes([7, 2, 1, 1])),
 'ts_len3': ip4(A, D, echo(24), options=bytes([68, 3, 5, 0])),
 'rr_partial': ip4(A, D, echo(25), options=bytes([7, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'rr_dup': ip4(A, D, echo(26), options=bytes([7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0])),
 'ts_overflow15': ip4(A, D, echo(27), options=bytes([68, 8, 9, 0xf0, 0, 0, 0, 0])),
 'opt_len1': ip4(A, D, echo(28), options=bytes([0x9e, 1, 0, 0])),
 'opt_len0': ip4(A, D, echo(29), options=bytes([0x9e, 0, 0, 0])),
 'lsrr_local': ip4(A, D, echo(30), options=bytes([131, 7, 4, 198, 18, 51, 2, 0])),
 'opt_lastbyte': ip4(A, D, echo(31), options=bytes([1, 1, 1, 0x9e])),
 'rr_ptr_over': ip4(A, D, echo(32), options=bytes([7, 7, 12, 0, 0, 0, 0, 0])),
 'tsaddr_misaligned': ip4(A, D, echo(33), options=bytes([68, 12, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0])),
 'fwd_rr_misaligned': ip4(A, B, echo(34), options=bytes([7, 11, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])),

 # ICMP errors about packets that carry options: what the error's own header echoes, and what it quotes.
 'err_fwd_rr_ttl1': ip4(A, B, echo(40), ttl=1, options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_rr_one_ttl1': ip4(A, B, echo(41), ttl=1, options=bytes([7, 7, 4, 0, 0, 0, 0, 0])),
 'err_fwd_rr_full_ttl1': ip4(A, B, echo(42), ttl=1, options=bytes([7, 7, 8, 1, 2, 3, 4, 0])),
 'err_fwd_rr_partial_ttl1': ip4(A, B, echo(43), ttl=1, options=bytes([7, 9, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_ts_ttl1': ip4(A, B, echo(44), ttl=1, options=bytes([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_tsaddr_ttl1': ip4(A, B, echo(45), ttl=1, options=bytes([68, 20, 5, 1] + [0] * 16)),
 'err_fwd_tsprespec_ttl1': ip4(A, B, echo(46), ttl=1, options=bytes([68, 20, 5, 3, 198, 18, 50, 1, 0, 0, 0, 0, 198, 18, 51, 2, 0, 0, 0, 0])),
 'err_fwd_unknown_rr_ttl1': ip4(A, B, echo(47), ttl=1, options=bytes([0x9e, 4, 0, 0, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_rr_ts_ttl1': ip4(A, B, echo(48), ttl=1, options=bytes([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_rr_df_big': ip4(A, B, echo(49) + b'x' * 1400, flags=0x4000, options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_udp_rr': ip4(A, D, udp(33434), proto=17, options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_udp_ts': ip4(A, D, udp(33435), proto=17, options=bytes([68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_udp_rr_full': ip4(A, D, udp(33436), proto=17, options=bytes([7, 7, 8, 1, 2, 3, 4, 0])),
 'err_udp_rr_one': ip4(A, D, udp(33437), proto=17, options=bytes([7, 7, 4, 0, 0, 0, 0, 0])),
 'err_proto_rr': ip4(A, D, b'p' * 8, proto=253, options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_redirect': ip4(A, C, echo(51)),
 'err_redirect_rr': ip4(A, C, echo(52), options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_fwd_eol_junk_ttl1': ip4(A, B, echo(53), ttl=1, options=bytes([0, 7, 1, 1])),
 'fwd_eol_junk': ip4(A, B, echo(54), options=bytes([0, 7, 1, 1])),
 'fwd_rr_eol_junk': ip4(A, B, echo(55), options=bytes([7, 7, 4, 0, 0, 0, 0, 0, 9, 9, 9, 9])),
 'err_fwd_tsprespec_short_ttl1': ip4(A, B, echo(56), ttl=1, options=bytes([68, 14, 5, 3, 198, 18, 50, 1, 0, 0, 0, 0, 0, 0, 0, 0])),
 'tsprespec_short': ip4(A, D, echo(57), options=bytes([68, 14, 5, 3, 198, 18, 50, 1, 0, 0, 0, 0, 0, 0, 0, 0])),
 'err_bad_ra_after_rr': ip4(A, D, echo(50), options=bytes([7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1, 148, 3, 0, 0])),
}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(('va', 0))
for name in sys.argv[1:]:
    s.send(dmac + smac + b"\x08\x00" + cases[name]); time.sleep(1.1)
