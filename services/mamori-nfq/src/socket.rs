//! The thin I/O part: one `NETLINK_NETFILTER` socket bound to one queue.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::msg::{self, ConfigFlags, Message};

#[derive(Clone, Copy, Debug)]
pub struct QueueOptions {
    /// Bytes of each packet to copy to user space (whole packets: 0xffff;
    /// GSO super-packets can be up to 64 KiB).
    pub copy_range: u32,
    /// Packets the kernel keeps waiting for a verdict; beyond it, fail-open.
    pub max_len: u32,
    /// What the queue does (fail-open, GSO). [`ConfigFlags::CONNTRACK`] here
    /// copies each packet's conntrack entry to user space as well.
    pub flags: ConfigFlags,
    /// Verdicts set the conntrack mark (NFQA_CT). The kernel honours that
    /// only while nf_conntrack_netlink is loaded, which asking for
    /// [`ConfigFlags::CONNTRACK`] makes it load; the socket asks once to have
    /// it loaded and to learn whether it can be, then drops the flag unless
    /// `flags` holds it.
    pub connmark_verdicts: bool,
    /// Socket receive buffer; large, because a full buffer is where packets
    /// are lost (and, with fail-open, passed uninspected).
    pub rcvbuf: usize,
    /// `recv` returns after this long without packets, so the worker can do
    /// timers and prove it is alive.
    pub recv_timeout: Duration,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions {
            copy_range: 0xffff,
            max_len: 4096,
            flags: ConfigFlags::FAIL_OPEN.union(ConfigFlags::GSO),
            connmark_verdicts: true,
            rcvbuf: 16 << 20,
            recv_timeout: Duration::from_millis(500),
        }
    }
}

/// Most datagrams [`NfqSocket::try_recv_many`] takes in one call.
pub const MAX_RECV_BATCH: usize = 64;

pub struct NfqSocket {
    fd: OwnedFd,
    queue: u16,
    seq: u32,
    conntrack: bool,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn setsockopt<T>(fd: RawFd, level: libc::c_int, name: libc::c_int, value: T) -> io::Result<()> {
    // SAFETY: `value` lives across the call and its size is passed with it.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })
    .map(drop)
}

impl NfqSocket {
    /// Open a socket and bind it to `queue`. Errors say what the kernel
    /// refused (no CAP_NET_ADMIN, queue already taken, module missing).
    pub fn open(queue: u16, opts: &QueueOptions) -> io::Result<NfqSocket> {
        // SAFETY: plain socket(2); the fd is owned right away.
        let raw = cvt(unsafe {
            libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, msg::NETLINK_NETFILTER)
        })?;
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: zeroed sockaddr_nl is valid; pid 0 lets the kernel choose.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: addr is a valid sockaddr_nl of the given size.
        cvt(unsafe {
            libc::bind(
                raw,
                &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        })?;
        // Lost messages are reported as ENOBUFS otherwise; with fail-open
        // the kernel already let those packets pass, so there is nothing to do.
        setsockopt(raw, libc::SOL_NETLINK, libc::NETLINK_NO_ENOBUFS, 1 as libc::c_int)?;
        let rcvbuf = opts.rcvbuf.min(i32::MAX as usize) as libc::c_int;
        if setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, rcvbuf).is_err() {
            setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVBUF, rcvbuf)?;
        }
        let tv = libc::timeval {
            tv_sec: opts.recv_timeout.as_secs() as libc::time_t,
            tv_usec: opts.recv_timeout.subsec_micros() as libc::suseconds_t,
        };
        setsockopt(raw, libc::SOL_SOCKET, libc::SO_RCVTIMEO, tv)?;
        let packet_ct = opts.flags.contains(ConfigFlags::CONNTRACK);
        let mut s = NfqSocket { fd, queue, seq: 0, conntrack: packet_ct || opts.connmark_verdicts };
        s.request(|buf, seq| msg::config_bind(buf, seq, queue, true)).map_err(|e| {
            io::Error::new(e.kind(), format!("binding NFQUEUE {queue}: {e} (needs CAP_NET_ADMIN and nfnetlink_queue; EBUSY means another process holds the queue)"))
        })?;
        let mut flags = if s.conntrack { opts.flags.union(ConfigFlags::CONNTRACK) } else { opts.flags };
        let mut r = s.request(|buf, seq| msg::config_params(buf, seq, queue, opts.copy_range, opts.max_len, flags));
        if r.as_ref().is_err_and(|e| e.raw_os_error() == Some(libc::EAGAIN)) {
            // The kernel just loaded nf_conntrack_netlink for the CONNTRACK
            // flag and asks to be asked again.
            r = s.request(|buf, seq| msg::config_params(buf, seq, queue, opts.copy_range, opts.max_len, flags));
        }
        if s.conntrack && r.as_ref().is_err_and(|e| e.raw_os_error() == Some(libc::EOPNOTSUPP)) {
            // Kernels without nf_conntrack_netlink cannot attach conntrack
            // to queued packets nor take a conntrack mark with the verdict;
            // the packet mark (saved to the connection by the ruleset) still works.
            s.conntrack = false;
            flags = ConfigFlags(flags.0 & !ConfigFlags::CONNTRACK.0);
            r = s.request(|buf, seq| msg::config_params(buf, seq, queue, opts.copy_range, opts.max_len, flags));
        }
        r.map_err(|e| io::Error::new(e.kind(), format!("configuring NFQUEUE {queue}: {e}")))?;
        if s.conntrack && !packet_ct {
            // The flag was only asked for to load nf_conntrack_netlink. Kept,
            // it has the kernel size and serialise every queued packet's
            // conntrack entry (both tuples, status, timeout, TCP state taken
            // under the entry's lock, the id's siphash, the mark) into its
            // message, for nobody to read: inspect never looks at it.
            s.request(|buf, seq| msg::config_params(buf, seq, queue, opts.copy_range, opts.max_len, opts.flags))
                .map_err(|e| io::Error::new(e.kind(), format!("configuring NFQUEUE {queue}: {e}")))?;
        }
        Ok(s)
    }

    /// Whether verdicts can set the conntrack mark directly (NFQA_CT).
    pub fn conntrack(&self) -> bool {
        self.conntrack
    }

    pub fn queue(&self) -> u16 {
        self.queue
    }

    /// Send one configuration message and wait for its acknowledgement.
    fn request(&mut self, build: impl FnOnce(&mut Vec<u8>, u32)) -> io::Result<()> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut buf = Vec::new();
        build(&mut buf, seq);
        self.send(&buf)?;
        let mut rbuf = vec![0u8; 8192];
        loop {
            let n = self.recv(&mut rbuf)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer from the kernel"));
            }
            for m in msg::messages(&rbuf[..n]) {
                match m {
                    Ok(Message::Ack { seq: s, errno }) if s == seq => {
                        return if errno == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(errno)) };
                    }
                    _ => {}
                }
            }
        }
    }

    /// Receive one datagram (possibly several messages). `Ok(0)` means the
    /// receive timeout passed without traffic.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_flags(buf, 0)
    }

    /// Like [`NfqSocket::recv`] but never waits: `Ok(0)` when nothing is queued.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_flags(buf, libc::MSG_DONTWAIT)
    }

    /// Take up to `bufs.len()` (at most [`MAX_RECV_BATCH`]) queued
    /// datagrams in one system call, never waiting. `lens[i]` gets the
    /// length of the datagram put in `bufs[i]`; returns how many there are
    /// (0 when nothing is queued). Under load several packets wait at every
    /// look, and taking them one `recv` at a time costs a system call each
    /// plus one more that finds the socket empty.
    pub fn try_recv_many(&self, bufs: &mut [Vec<u8>], lens: &mut [usize]) -> io::Result<usize> {
        let n = bufs.len().min(lens.len()).min(MAX_RECV_BATCH);
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: all-zero iovec and mmsghdr are valid (null pointers, zero lengths).
        let mut iov: [libc::iovec; MAX_RECV_BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; MAX_RECV_BATCH] = unsafe { std::mem::zeroed() };
        for (i, b) in bufs.iter_mut().take(n).enumerate() {
            iov[i] = libc::iovec { iov_base: b.as_mut_ptr().cast(), iov_len: b.len() };
            hdrs[i].msg_hdr.msg_iov = &mut iov[i];
            hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        loop {
            // SAFETY: each header points at one iovec over a live buffer of
            // the stated length; n headers are initialised.
            let r = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if r >= 0 {
                let r = r as usize;
                for (len, h) in lens.iter_mut().zip(&hdrs[..r]) {
                    *len = h.msg_len as usize;
                }
                return Ok(r);
            }
            if let Some(done) = after_failed_receive() {
                return done;
            }
        }
    }

    fn recv_flags(&self, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
        loop {
            // SAFETY: buf is valid for writes of buf.len() bytes.
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), flags) };
            if n >= 0 {
                return Ok(n as usize);
            }
            if let Some(done) = after_failed_receive() {
                return done;
            }
        }
    }

    /// Send a buffer of messages (verdicts) to the kernel.
    pub fn send(&self, buf: &[u8]) -> io::Result<()> {
        // SAFETY: zeroed sockaddr_nl addresses the kernel (pid 0).
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        loop {
            // SAFETY: buf and addr are valid for the given lengths.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    0,
                    &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }
}

/// What a failed receive means (errno): `None` to try again, else the result.
fn after_failed_receive() -> Option<io::Result<usize>> {
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // Interrupted, or messages were lost (fail-open passed them): go on.
        Some(libc::EINTR) | Some(libc::ENOBUFS) => None,
        Some(libc::EAGAIN) => Some(Ok(0)),
        _ => Some(Err(e)),
    }
}
