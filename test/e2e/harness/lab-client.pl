#!/usr/bin/perl
# The per-call side of the e2e harness (test/e2e/harness/daemon.ts): every ssh session
# (ForceCommand), every `pct` and `pvesh` of a host and every model program of a container
# (kubectl, k3s, systemctl, curl, sqlite3...) is this small Perl program instead of a Node
# start: `perl lab-client.pl <socket> <kind> [args...]`. It sends its argv, environment, cwd
# and whether stdin is a terminal to the harness's daemon, which holds the lab's code loaded,
# and does what the daemon answers:
#   S         send stdin (read to its end; only programs that read stdin are asked)
#   T         send stdin as it comes (I frames, then Z at its end), still reading answers
#   O / E     bytes for stdout / stderr
#   B         run this argv (bubblewrap) with stdin, stdout and stderr inherited, then report
#             its wait status (D) and wait for the daemon's next answer
#   X         exit with this status
# Perl because it is always on Debian (perl-base has IO::Socket::UNIX; pve-container's own
# `pct` is Perl) and starts in a few milliseconds: it loads no module at all (the socket is
# made with Perl's builtins and Linux's constants, the cwd read from /proc). A frame is one type byte, a 32-bit
# big-endian length, then the payload; lists are NUL-separated.
use strict;

my ($path, $kind, @args) = @ARGV;
if (!defined $kind) {
    print STDERR "usage: lab-client.pl <socket> <kind> [args...]\n";
    exit 2;
}

sub fatal {
    print STDERR "pve-k3s e2e client: $_[0]\n";
    exit 255;
}

# AF_UNIX and SOCK_STREAM are 1 on Linux; a sockaddr_un is the family (a native short) and the path.
socket(my $sock, 1, 1, 0) or fatal("socket: $!");
connect($sock, pack('S', 1) . $path . "\0") or fatal("cannot reach the harness daemon at $path: $!");

sub put {
    my ($type, $payload) = @_;
    my $buf = pack('a N', $type, length $payload) . $payload;
    while (length $buf) {
        my $n = syswrite($sock, $buf);
        fatal("lost the harness daemon: $!") if !defined $n;
        substr($buf, 0, $n, '');
    }
}

sub take {
    my ($want) = @_;
    my $buf = '';
    while (length($buf) < $want) {
        my $n = sysread($sock, $buf, $want - length($buf), length $buf);
        fatal("lost the harness daemon: $!") if !defined $n;
        return undef if $n == 0;
    }
    return $buf;
}

sub out {
    my ($fh, $data) = @_;
    while (length $data) {
        my $n = syswrite($fh, $data);
        return if !defined $n;
        substr($data, 0, $n, '');
    }
}

# The container a model program runs in: its root's ref file (`<host> <vmid>`), as the daemon
# cannot tell from outside which root a program was started in.
my $ref = '';
if ($kind eq 'program' && open(my $fh, '<', '/run/pve-k3s-e2e/root/ref')) {
    local $/;
    $ref = <$fh>;
    close $fh;
}
my $cwd = readlink('/proc/self/cwd') // '/';
my $tty = -t STDIN ? '1' : '0';
put('Q', join("\0", $kind, $cwd, $tty, $ref, scalar(@args), @args, map { "$_=$ENV{$_}" } sort keys %ENV));

# Once the daemon asks for stdin as it comes (T), it is forwarded in chunks (I) and its end (Z)
# while the daemon's frames are read: a session whose requests are lines on stdin.
my $streaming = 0;
for (;;) {
    if ($streaming) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        vec($rin, fileno(STDIN), 1) = 1;
        my $rout;
        next if select($rout = $rin, undef, undef, undef) < 0;
        if (vec($rout, fileno(STDIN), 1)) {
            my $n = sysread(STDIN, my $chunk, 65536);
            if ($n) {
                put('I', $chunk);
            } else {
                put('Z', '');
                $streaming = 0;
            }
        }
        next if !vec($rout, fileno($sock), 1);
    }
    my $head = take(5);
    fatal('the harness daemon closed the connection') if !defined $head;
    my ($type, $len) = unpack('a N', $head);
    my $payload = $len ? take($len) : '';
    fatal('the harness daemon closed the connection') if !defined $payload;
    if ($type eq 'O') {
        out(\*STDOUT, $payload);
    } elsif ($type eq 'E') {
        out(\*STDERR, $payload);
    } elsif ($type eq 'X') {
        exit($payload + 0);
    } elsif ($type eq 'T') {
        binmode STDIN;
        $streaming = 1;
    } elsif ($type eq 'S') {
        binmode STDIN;
        my $all = '';
        while (1) {
            my $n = sysread(STDIN, $all, 65536, length $all);
            last if !$n;
        }
        put('I', $all);
    } elsif ($type eq 'B') {
        # <env mode: inherit|set> <env count> <env...> <argv...>
        my ($mode, $count, @rest) = split(/\0/, $payload, -1);
        my @env = splice(@rest, 0, $count);
        my $pid = fork();
        fatal("fork: $!") if !defined $pid;
        if ($pid == 0) {
            if ($mode eq 'set') {
                %ENV = ();
                for my $kv (@env) {
                    my ($k, $v) = split(/=/, $kv, 2);
                    $ENV{$k} = $v;
                }
            }
            exec { $rest[0] } @rest or do {
                print STDERR "pve-k3s e2e client: cannot run $rest[0]: $!\n";
                exit 127;
            };
        }
        waitpid($pid, 0);
        put('D', $? & 0xffff);
    } else {
        fatal("unknown answer from the harness daemon: $type");
    }
}
