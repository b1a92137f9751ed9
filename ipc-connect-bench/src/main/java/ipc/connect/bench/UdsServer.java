package ipc.connect.bench;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The baseline: the bench workloads over a JDK Unix domain socket, with blocking I/O, direct buffers and one
 * platform thread per connection (what a careful user would write). Each request is
 * {@code [op:byte][n:long][payload]}; each response {@code [n:long][payload]}:
 * <ul>
 *   <li>{@code 'S'}: n request bytes follow; the answer is empty (n = 0);</li>
 *   <li>{@code 'U'}: n request bytes follow; the answer is n, with no payload;</li>
 *   <li>{@code 'D'}: no request payload; the answer is n bytes.</li>
 * </ul>
 */
final class UdsServer implements AutoCloseable {
    static final byte SMALL = 'S';
    static final byte UPLOAD = 'U';
    static final byte DOWNLOAD = 'D';
    static final int BUFFER = 1 << 20;

    private final Path path;
    private final ServerSocketChannel server;
    private final Thread acceptor;

    private UdsServer(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
        this.acceptor = Thread.ofPlatform().daemon().name("uds-accept").start(this::accept);
    }

    static UdsServer start(Path path) throws IOException {
        Files.deleteIfExists(path);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        return new UdsServer(path, server);
    }

    private void accept() {
        try {
            while (true) {
                SocketChannel connection = server.accept();
                Thread.ofPlatform().daemon().name("uds-connection").start(() -> serve(connection));
            }
        } catch (IOException closed) {
            // the server is closed
        }
    }

    private static void serve(SocketChannel connection) {
        ByteBuffer header = ByteBuffer.allocateDirect(9);
        ByteBuffer answer = ByteBuffer.allocateDirect(8);
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER);
        try (connection) {
            while (true) {
                header.clear();
                if (!readFully(connection, header)) {
                    return;
                }
                byte op = header.get(0);
                long n = header.getLong(1);
                if (op == SMALL || op == UPLOAD) {
                    for (long left = n; left > 0; ) {
                        buffer.clear().limit((int) Math.min(buffer.capacity(), left));
                        int read = connection.read(buffer);
                        if (read < 0) {
                            return;
                        }
                        left -= read;
                    }
                    answer.clear().putLong(0, op == SMALL ? 0 : n);
                    writeFully(connection, answer);
                } else {
                    answer.clear().putLong(0, n);
                    writeFully(connection, answer);
                    for (long left = n; left > 0; ) {
                        // the same one copy from the source as the Ipc.Connect side pays
                        buffer.clear().put(BenchServer.BLOCK, 0, (int) Math.min(buffer.capacity(), left)).flip();
                        left -= buffer.remaining();
                        writeFully(connection, buffer);
                    }
                }
            }
        } catch (IOException gone) {
            // the client went away
        }
    }

    static boolean readFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                return false;
            }
        }
        return true;
    }

    static void writeFully(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(path);
    }
}
