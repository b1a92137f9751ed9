package ipc.connect.cli;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcData;
import ipc.connect.IpcDataBytes;
import ipc.connect.IpcDataStream;
import ipc.connect.IpcServer;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The server side of {@code bench}; stops when its standard input closes. */
@Command(name = "bench-server", hidden = true)
final class BenchServerCommand implements Callable<Integer> {
    static final byte[] BLOCK = new byte[1 << 20];

    @Option(names = "--channel", required = true)
    String channel;

    @Override
    public Integer call() throws Exception {
        IpcChannelFactory factory = new IpcChannelFactory();
        try (IpcServer server = new IpcServer(factory); IpcServer direct = new IpcServer(factory, IpcServer.DIRECT)) {
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
            System.out.println("READY");
            System.out.flush();
            ServeCommand.awaitStop(true);
        }
        return 0;
    }

    /** {@code length} bytes served from one 1 MiB block: a source that costs one copy per byte, like a file cache. */
    static InputStream repeat(long length) {
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
}
