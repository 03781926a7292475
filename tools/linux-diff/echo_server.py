import socket, threading, time
def v6only(s):
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); return s
def udp(family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6: v6only(s)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 7))
    while True:
        d, a = s.recvfrom(65535); s.sendto(d, a)
def tcp(family=socket.AF_INET):
    s = socket.socket(family); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Linux's default congestion control, CUBIC, as the appliance's: a host may default to BBR (paced, no PRR), and a
    # namespace takes the host's default without leave to change it.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'cubic')
    if family == socket.AF_INET6: v6only(s)
    s.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 7)); s.listen(16)
    while True:
        c, a = s.accept()
        def h(c=c):
            while True:
                d = c.recv(65536)
                if not d: break
                c.sendall(d)
            c.close()
        threading.Thread(target=h, daemon=True).start()
for f in (socket.AF_INET, socket.AF_INET6):
    threading.Thread(target=udp, args=(f,), daemon=True).start()
    threading.Thread(target=tcp, args=(f,), daemon=True).start()
time.sleep(40)
