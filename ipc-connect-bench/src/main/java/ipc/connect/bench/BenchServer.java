package ipc.connect.bench;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcData;
import ipc.connect.IpcDataBytes;
import ipc.connect.IpcDataStream;
import ipc.connect.IpcInputStream;
import ipc.connect.IpcServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The server side of the bench workloads, over Ipc.Connect and over a Unix domain socket ({@link UdsServer}):
 * <ul>
 *   <li>{@code small}: reads the request, answers nothing (handler on a virtual thread);</li>
 *   <li>{@code small-direct}: the same with {@link IpcServer#DIRECT} (handler inline on the dispatcher);</li>
 *   <li>{@code upload}: reads the request to its end, answers its length;</li>
 *   <li>{@code download}: the request is a length N; answers N bytes.</li>
 *   <li>{@code upload-zero-copy}: like {@code upload}, reading the request in place ({@code readView});</li>
 *   <li>{@code download-zero-copy}: like {@code download}, writing the response with an {@code IpcDataWriter}.</li>
 * </ul>
 */
public final class BenchServer implements AutoCloseable {
    /** The bytes every stream is made of: a source that costs one copy per byte, like a page cache. */
    static final byte[] BLOCK = new byte[1 << 20];

    private final IpcServer server;
    private final IpcServer direct;
    private final UdsServer uds;

    private BenchServer(IpcServer server, IpcServer direct, UdsServer uds) {
        this.server = server;
        this.direct = direct;
        this.uds = uds;
    }

    public static BenchServer start(String channel, Path socket) throws IOException {
        IpcChannelFactory factory = new IpcChannelFactory();
        IpcServer server = new IpcServer(factory);
        IpcServer direct = new IpcServer(factory, IpcServer.DIRECT);
        try {
            server.listen(channel + ".small", request -> {
                request.skip(Long.MAX_VALUE);
                return IpcData.empty();
            });
            direct.listen(channel + ".small-direct", request -> {
                request.skip(Long.MAX_VALUE);
                return IpcData.empty();
            });
            server.listen(channel + ".upload", request -> {
                byte[] buffer = new byte[1 << 20];
                long total = 0;
                int n;
                while ((n = request.read(buffer)) >= 0) {
                    total += n;
                }
                return new IpcDataBytes(Long.toString(total).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(channel + ".download", request -> {
                long length = Long.parseLong(new String(request.readAllBytes(), StandardCharsets.UTF_8));
                return new IpcDataStream(repeat(length));
            });
            server.listen(channel + ".upload-zero-copy", request -> {
                IpcInputStream in = (IpcInputStream) request;
                long total = 0;
                ByteBuffer view;
                while ((view = in.readView(1 << 20)) != null) {
                    total += view.remaining();
                }
                return new IpcDataBytes(Long.toString(total).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(channel + ".download-zero-copy", request -> {
                long length = Long.parseLong(new String(request.readAllBytes(), StandardCharsets.UTF_8));
                return IpcData.writer(out -> writeRepeated(out, length));
            });
            return new BenchServer(server, direct, UdsServer.start(socket));
        } catch (IOException | RuntimeException e) {
            server.close();
            direct.close();
            throw e;
        }
    }

    /** Writes {@code length} bytes of {@link #BLOCK} to {@code out}, a block per write. */
    public static void writeRepeated(OutputStream out, long length) throws IOException {
        for (long left = length; left > 0; ) {
            int n = (int) Math.min(left, BLOCK.length);
            out.write(BLOCK, 0, n);
            left -= n;
        }
    }

    /** {@code length} bytes served from {@link #BLOCK}. */
    public static InputStream repeat(long length) {
        return new InputStream() {
            private long remaining = length;

            @Override
            public int read() {
                if (remaining <= 0) {
                    return -1;
                }
                remaining--;
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (remaining <= 0) {
                    return -1;
                }
                int n = (int) Math.min(Math.min(len, remaining), BLOCK.length);
                System.arraycopy(BLOCK, 0, b, off, n);
                remaining -= n;
                return n;
            }
        };
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
            direct.close();
        } finally {
            uds.close();
        }
    }
}
