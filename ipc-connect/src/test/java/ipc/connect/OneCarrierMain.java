package ipc.connect;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A server and a client in one process, for a JVM given a single carrier thread for virtual threads: after a call
 * (whose handler's thread then polls for the next request), and a pause, it starts a virtual thread of its own and
 * prints {@code ran <true|false> <ms>}: whether that thread ran within half a second, and how long it took.
 * Arguments: folder, channel.
 */
public final class OneCarrierMain {
    private OneCarrierMain() {
    }

    public static void main(String[] args) throws Exception {
        IpcChannelFactory factory = IpcChannelFactory.builder().directory(Path.of(args[0])).build();
        try (IpcServer server = new IpcServer(factory)) {
            server.listen(args[1], request -> new IpcDataBytes(request.readAllBytes()));
            try (IpcClient client = new IpcClient(factory, args[1])) {
                client.sendAndReceive(new byte[] {1}, Duration.ofSeconds(10));
                Thread.sleep(50); // past the handler thread's poll for the next request
                long start = System.nanoTime();
                Thread thread = Thread.ofVirtual().start(() -> { });
                boolean ran = thread.join(Duration.ofMillis(500));
                System.out.println("ran " + ran + " " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        }
    }
}
