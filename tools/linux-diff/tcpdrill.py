import socket, struct, subprocess, sys, time, select
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
# A's kernel knows nothing of the crafted connections: keep it from resetting them while a scenario runs.
def quiet_kernel():
    subprocess.run(['nft', 'add', 'table', 'inet', 'drill'])
    subprocess.run(['nft', 'add', 'chain', 'inet', 'drill', 'o', '{ type filter hook output priority 0; }'])
    subprocess.run(['nft', 'add', 'rule', 'inet', 'drill', 'o', 'tcp', 'flags', '&', 'rst', '==', 'rst', 'drop'])
def kernel_back():
    subprocess.run(['nft', 'delete', 'table', 'inet', 'drill'])
subprocess.run(['ping', '-c', '1', '-W', '1', '198.18.50.1'], capture_output=True)
neigh = subprocess.run(['ip', 'neigh', 'show', '198.18.50.1'], capture_output=True, text=True).stdout.split()
dmac = bytes.fromhex(neigh[neigh.index('lladdr') + 1].replace(':', ''))
smac = bytes.fromhex(open('/sys/class/net/va/address').read().strip().replace(':', ''))
A = socket.inet_aton('198.18.50.2'); D = socket.inet_aton('198.18.50.1')
SPORT, DPORT = 45000, 7
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)); s.bind(('va', 0))
ISN = 1000
srv_isn = None
first_tsval = {}  # the TSval each data segment of the server's first carried, by relative sequence
def send(flags, seq, ack, data=b'', opts=b'', win=502, tos=0):
    while len(opts) % 4: opts += b'\x01'
    off = (20 + len(opts)) // 4
    tcp = struct.pack('!HHIIBBHHH', SPORT, DPORT, seq & 0xffffffff, ack & 0xffffffff, off << 4, flags, win, 0, 0) + opts + data
    c = csum(A + D + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, tos, 20 + len(tcp), 0x2222, 0x4000, 64, 6, 0, A, D)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    s.send(dmac + smac + b'\x08\x00' + ip + tcp)
FL = {0x01: 'F', 0x02: 'S', 0x04: 'R', 0x08: 'P', 0x10: '.', 0x40: 'E', 0x80: 'W'}
def parse_opts(o):
    out = []; i = 0
    while i < len(o):
        k = o[i]
        if k == 0: break
        if k == 1: i += 1; continue
        l = o[i+1]
        if k == 2: out.append('mss%d' % struct.unpack('!H', o[i+2:i+4]))
        elif k == 3: out.append('ws')
        elif k == 4: out.append('sackOK')
        elif k == 8: out.append('TS')
        elif k == 5:
            blocks = [struct.unpack('!II', o[j:j+8]) for j in range(i+2, i+l, 8)]
            out.append('sack' + ''.join('[%d,%d)' % ((a - ISN) & 0xffffffff, (b - ISN) & 0xffffffff) for a, b in blocks))
        else: out.append('opt%d' % k)
        i += l
    return out
def recv(t=0.4):
    global srv_isn
    got = []; end = time.time() + t
    while True:
        r, _, _ = select.select([s], [], [], max(0, end - time.time()))
        if not r: break
        f = s.recv(2000)
        if f[6:12] == smac or f[12:14] != b'\x08\x00': continue
        ip = f[14:]; ihl = (ip[0] & 15) * 4
        if ip[9] != 6: continue
        tcp = ip[ihl:]; sp, dp, seq, ack, offb, flags, win = struct.unpack('!HHIIBBH', tcp[:16])
        if sp != DPORT or dp != SPORT: continue
        doff = (offb >> 4) * 4; data = tcp[doff:struct.unpack('!H', ip[2:4])[0] - ihl]
        if flags & 0x02: srv_isn = seq
        rs = (seq - srv_isn) & 0xffffffff if srv_isn is not None else seq
        o = tcp[20:doff]; j = o.find(b'\x08\x0a')
        if j >= 0 and len(data) and rs not in first_tsval: first_tsval[rs] = struct.unpack('!I', o[j+2:j+6])[0]
        ra = (ack - ISN) & 0xffffffff if flags & 0x10 else 0
        got.append('%s seq=%d ack=%d len=%d ecn=%d %s' % (''.join(v for k, v in FL.items() if flags & k), rs, ra, len(data), ip[1] & 3, ','.join(parse_opts(tcp[20:doff]))))
    return got
def step(name, *a, t=0.4, **k):
    send(*a, **k); print('%-14s -> %s' % (name, ' | '.join(recv(t)) or '-'))
def main():
    global SPORT, srv_isn
    SPORT = 45000; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4\x04\x02\x08\x0a' + struct.pack('!II', 100, 0) + b'\x01\x03\x03\x07')
    step('ack', 0x10, ISN + 1, srv_isn + 1, opts=TSO(101, 0))
    step('data', 0x18, ISN + 1, srv_isn + 1, b'hello', opts=TSO(102, 0))
    step('ack-echo', 0x10, ISN + 6, srv_isn + 6, opts=TSO(103, 0))
    step('dup-data', 0x18, ISN + 1, srv_isn + 6, b'hello', opts=TSO(104, 0))
    step('ooo-data', 0x18, ISN + 106, srv_isn + 6, b'z' * 10, opts=TSO(105, 0))
    step('ooo-again', 0x18, ISN + 106, srv_isn + 6, b'z' * 10, opts=TSO(106, 0))
    step('beyond-win', 0x18, ISN + 10000000, srv_isn + 6, b'q', opts=TSO(107, 0))
    time.sleep(0.6)
    step('rst-inwin', 0x04, ISN + 50, 0)
    step('syn-estab', 0x02, ISN + 3, 0)
    time.sleep(0.6)
    step('syn-estab2', 0x02, ISN + 3, 0)
    step('ack-unsent', 0x10, ISN + 6, srv_isn + 100000, opts=TSO(108, 0))
    time.sleep(0.6)
    step('paws-old', 0x18, ISN + 6, srv_isn + 6, b'x', opts=TSO(50, 0))
    step('fill-hole', 0x18, ISN + 6, srv_isn + 6, b'y' * 100, opts=TSO(109, 0), t=0.6)
    step('fin', 0x11, ISN + 116, srv_isn + 6 + 110, opts=TSO(110, 0), t=0.6)
    step('ack-fin', 0x10, ISN + 117, srv_isn + 6 + 111, opts=TSO(111, 0))

def ecn():
    global SPORT, srv_isn
    SPORT = 45001; srv_isn = None
    step('syn-ecn', 0xC2, ISN, 0, opts=b'\x02\x04\x05\xb4\x04\x02')
    step('ack', 0x10, ISN + 1, srv_isn + 1)
    step('data-ce', 0x18, ISN + 1, srv_isn + 1, b'a' * 10, tos=3, t=0.6)
    step('ack-echo', 0x10, ISN + 11, srv_isn + 11)
    step('data-ect', 0x18, ISN + 11, srv_isn + 11, b'b' * 10, tos=2, t=0.6)
    step('data-cwr', 0x98, ISN + 21, srv_isn + 21, b'c' * 10, tos=2, t=0.6)
    step('ack-ece', 0x50, ISN + 31, srv_isn + 31)
    step('data-after', 0x18, ISN + 31, srv_isn + 31, b'd' * 10, tos=2, t=0.6)
    step('rst', 0x04, ISN + 41, 0)

# SYN-RECEIVED, as Linux's tcp_check_req: a repeated SYN gets the SYN-ACK again, another SYN in the window a
# reset, an ACK of the wrong number a reset, a RST drops the half-open connection quietly.
def synrecv():
    global SPORT, srv_isn
    SPORT = 45002; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4')
    step('syn-again', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4')
    step('ack-wrong', 0x10, ISN + 1, srv_isn + 5)
    step('syn-inwin', 0x02, ISN + 5, 0, opts=b'\x02\x04\x05\xb4')
    step('ack-after', 0x10, ISN + 1, srv_isn + 1)
    SPORT = 45003; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4')
    step('syn-before', 0x02, ISN - 5, 0, opts=b'\x02\x04\x05\xb4')
    step('rst', 0x04, ISN + 1, 0)
    step('ack-after-rst', 0x10, ISN + 1, srv_isn + 1)
    SPORT = 45004; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4')
    step('ack+data', 0x18, ISN + 1, srv_isn + 1, b'hi')
    step('fin', 0x11, ISN + 3, srv_isn + 3, t=0.6)
    step('ack-fin', 0x10, ISN + 4, srv_isn + 4)
    SPORT = 45005; srv_isn = None
    step('synack-listen', 0x12, ISN, 77777)
    step('fin-listen', 0x01, ISN, 0)
    step('data-listen', 0x08, ISN, 0, b'x')

# Options a SYN may leave out or push to their limits, and what the echo then sends.
def options():
    global SPORT, srv_isn
    SPORT = 45006; srv_isn = None
    step('syn-bare', 0x02, ISN, 0)
    step('ack', 0x10, ISN + 1, srv_isn + 1)
    step('data-1000', 0x18, ISN + 1, srv_isn + 1, b'm' * 1000, t=0.6)
    step('ack-all', 0x10, ISN + 1001, srv_isn + 1001)
    step('rst', 0x04, ISN + 1001, 0)
    SPORT = 45007; srv_isn = None
    step('syn-mss100', 0x02, ISN, 0, opts=b'\x02\x04\x00\x64')
    step('ack', 0x10, ISN + 1, srv_isn + 1)
    step('data-300', 0x18, ISN + 1, srv_isn + 1, b'n' * 300, t=0.6)
    step('rst', 0x04, ISN + 301, 0)
    SPORT = 45008; srv_isn = None
    step('syn-ws15', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4\x01\x03\x03\x0f')
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=1)
    step('data-10', 0x18, ISN + 1, srv_isn + 1, b'o' * 10, win=1, t=0.6)
    step('rst', 0x04, ISN + 11, 0)
    SPORT = 45009; srv_isn = None
    step('syn-ts-only', 0x02, ISN, 0, opts=b'\x01\x01\x08\x0a' + struct.pack('!II', 5, 0))
    step('ack-no-ts', 0x10, ISN + 1, srv_isn + 1)
    step('data', 0x18, ISN + 1, srv_isn + 1, b'p' * 5, opts=TSO(6, 0))
    step('rst', 0x04, ISN + 6, 0)

# Shut and small windows: zero-window probes, a window too small for the next segment, a window shut on data in
# flight, and a FIN waiting for room. No window scaling, so the windows below are what the peer offers. The
# handshake's ACK comes 0.4 s after the SYN-ACK: both ends then start with an RTO of 1.2 s, and each wait below
# leaves room around the timer it watches (the output lists what came, not when).
def zerowin():
    global SPORT, srv_isn
    SPORT = 45010; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4', win=4000)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=4000)
    step('data-win0', 0x18, ISN + 1, srv_isn + 1, b'z' * 1000, win=0, t=1.6)        # probe at ~1.2 s
    step('answer-win0', 0x10, ISN + 1001, srv_isn + 1, win=0, t=2.9)               # backed off: ~2.4 s
    step('open', 0x10, ISN + 1001, srv_isn + 1, win=4000, t=0.3)                   # the 1,000 octets
    step('ack-win300', 0x10, ISN + 1001, srv_isn + 1001, win=300, t=0.1)
    step('data-win300', 0x18, ISN + 1001, srv_isn + 1001, b'y' * 1000, win=300, t=2.5)  # 300 at the probe timer
    step('ack300-win0', 0x10, ISN + 2001, srv_isn + 1301, win=0, t=0.2)
    step('open-rest', 0x10, ISN + 2001, srv_isn + 1301, win=4000, t=0.3)           # the other 700
    step('ack-rest', 0x10, ISN + 2001, srv_isn + 2001, win=4000, t=0.1)
    step('data-1400', 0x18, ISN + 2001, srv_isn + 2001, b'x' * 1400, win=4000, t=0.05)
    step('shut-in-flight', 0x10, ISN + 3401, srv_isn + 2001, win=0, t=2.0)         # SND.UNA's segment again, whole
    step('ack-all-win0', 0x10, ISN + 3401, srv_isn + 3401, win=0, t=0.1)
    step('fin-win0', 0x11, ISN + 3401, srv_isn + 3401, win=0, t=3.5)               # FIN held, probed
    step('open-fin', 0x10, ISN + 3402, srv_isn + 3401, win=4000, t=0.3)
    step('ack-fin', 0x10, ISN + 3402, srv_isn + 3402, win=4000)

# Retransmission timing: the echo is never acknowledged, so it goes again at the RTO, doubled each time. The first
# connection's handshake takes 0.4 s (RTO 1.2 s); the second's takes what the wire takes (RTO about 200 ms).
def rto():
    global SPORT, srv_isn
    SPORT = 45011; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4', win=4000)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=4000)
    step('data', 0x18, ISN + 1, srv_isn + 1, b'r' * 100, win=4000, t=4.0)          # at ~1.2 and ~3.6 s
    step('ack-it', 0x10, ISN + 101, srv_isn + 101, win=4000, t=0.1)
    step('rst', 0x04, ISN + 101, 0)
    SPORT = 45012; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x05\xb4', win=4000, t=0.05)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=4000, t=0.05)
    step('data', 0x18, ISN + 1, srv_isn + 1, b's' * 100, win=4000, t=1.3)          # at ~0.2, 0.6, 1.4 s
    step('ack-it', 0x10, ISN + 101, srv_isn + 101, win=4000, t=0.1)
    step('rst', 0x04, ISN + 101, 0)

def tlp():
    # A tail of two segments in flight with SACK on and no ACK for them (Linux's tail loss probe, RFC 8985 section 7),
    # after a 50 ms handshake; then the first ACKed and the second not.
    global SPORT, srv_isn
    SPORT = 45021; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x03\xe8\x04\x02', win=65535, t=0.05)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=65535, t=0.0)
    send(0x10, ISN + 1, srv_isn + 1, b'a' * 1000, win=65535)
    step('data2', 0x18, ISN + 1001, srv_isn + 1, b'b' * 1000, win=65535, t=1.5)      # echo, probe, RTO
    step('ack-first', 0x10, ISN + 2001, srv_isn + 1001, win=65535, t=1.5)
    step('ack-all', 0x10, ISN + 2001, srv_isn + 2001, win=65535, t=0.1)
    step('rst', 0x04, ISN + 2001, 0)

def rack():
    # Three segments echoed with SACK on after a 50 ms handshake; 50 ms later the client SACKs the second and third but
    # not the first: RACK's reordering window (RFC 8985 section 6.2, a quarter of the minimum RTT) decides when the
    # first goes again. Then all is ACKed and the retransmission D-SACKed (a spurious recovery, undone).
    global SPORT, srv_isn
    SPORT = 45031; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x03\xe8\x04\x02', win=65535, t=0.05)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=65535, t=0.0)
    send(0x10, ISN + 1, srv_isn + 1, b'c' * 1000, win=65535)
    send(0x10, ISN + 1001, srv_isn + 1, b'c' * 1000, win=65535)
    step('data3', 0x18, ISN + 2001, srv_isn + 1, b'c' * 1000, win=65535, t=0.05)
    sack = lambda l, r: b'\x01\x01\x05\x0a' + struct.pack('!II', (srv_isn + l) & 0xffffffff, (srv_isn + r) & 0xffffffff)
    send(0x10, ISN + 3001, srv_isn + 1, opts=sack(1001, 3001), win=65535)
    print('%-14s -> %s' % ('sack-2-3 8ms', ' | '.join(recv(0.008)) or '-'))
    print('%-14s -> %s' % ('then 300ms', ' | '.join(recv(0.3)) or '-'))
    step('ack-all', 0x10, ISN + 3001, srv_isn + 3001, win=65535, t=0.05)
    step('dsack', 0x10, ISN + 3001, srv_isn + 3001, opts=sack(1, 1001), win=65535, t=0.05)
    step('rst', 0x04, ISN + 3001, 0)

def prr():
    # Thirty segments echoed with SACK on after a 50 ms handshake; the first five ACKed (slow start: cwnd 15, fifteen
    # out), then the sixth lost and the ones above it SACKed one per ACK, 2 ms apart: what each ACK lets out in the
    # recovery (PRR, RFC 6937: about ssthresh/cwnd of what it reports delivered while more than ssthresh is in flight).
    global SPORT, srv_isn
    SPORT = 45041; srv_isn = None
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x03\xe8\x04\x02\x01\x03\x03\x07', win=65535, t=0.05)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=502, t=0.0)
    for i in range(30):
        send(0x10, ISN + 1 + i * 1000, srv_isn + 1, b'p' * 1000, win=502)
    print('%-14s -> %s' % ('data30', ' | '.join(recv(0.03)) or '-'))
    step('ack5', 0x10, ISN + 30001, srv_isn + 5001, win=502, t=0.03)
    sack = lambda l, r: b'\x01\x01\x05\x0a' + struct.pack('!II', (srv_isn + l) & 0xffffffff, (srv_isn + r) & 0xffffffff)
    for k in range(7, 21):
        step('sack7-%d' % k, 0x10, ISN + 30001, srv_isn + 5001, opts=sack(6001, 1 + k * 1000), win=502, t=0.006)
    step('ack-all', 0x10, ISN + 30001, srv_isn + 30001, win=502, t=0.01)
    step('rst', 0x04, ISN + 30001, 0)

def spurious():
    # Timestamps on, twenty segments sent to the echo after a 50 ms handshake: ten come back (the initial window) and
    # are not ACKed until the retransmission timeout has sent the first again; then the first two are ACKed with the
    # originals' TSval echoed (the ACKs were late, nothing was lost: RFC 3522, Linux's tcp_try_undo_loss).
    global SPORT, srv_isn
    SPORT = 45051; srv_isn = None; first_tsval.clear()
    step('syn', 0x02, ISN, 0, opts=b'\x02\x04\x03\xe8\x04\x02\x08\x0a' + struct.pack('!II', 100, 0) + b'\x01\x03\x03\x07', win=65535, t=0.05)
    step('ack', 0x10, ISN + 1, srv_isn + 1, win=502, opts=TSO(101, 0), t=0.0)
    for i in range(20):
        send(0x10, ISN + 1 + i * 988, srv_isn + 1, b's' * 988, win=502, opts=TSO(102, 0))
    print('%-14s -> %s' % ('data20', ' | '.join(recv(0.6)) or '-'))
    step('late-ack2', 0x10, ISN + 19761, srv_isn + 1977, win=502, opts=TSO(103, first_tsval.get(1, 0)), t=0.05)
    step('ack-all', 0x10, ISN + 19761, srv_isn + 19761, win=502, opts=TSO(104, first_tsval.get(1, 0)), t=0.05)
    step('rst', 0x04, ISN + 19761, 0)

TSO = lambda v, e: b'\x01\x01\x08\x0a' + struct.pack('!II', v, e)
quiet_kernel()
try:
    for scenario in sys.argv[1:] or ['main', 'ecn']:
        print('---', scenario)
        globals()[scenario]()
finally:
    kernel_back()
