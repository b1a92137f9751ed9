package ipc.connect;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A client process for the tests; prints one result line and exits 0, or prints the failure and exits 1.
 * <ul>
 *   <li>{@code echo <channel> <count>}: {@code count} distinct requests, each echo checked; prints {@code OK <count>};</li>
 *   <li>{@code upload <countChannel> <bytes>}: streams that many pattern bytes, checks the server's length and CRC;
 *       prints {@code OK <bytes>};</li>
 *   <li>{@code download <generateChannel> <bytes>}: asks for that many pattern bytes, checks each; prints
 *       {@code OK <bytes>}.</li>
 * </ul>
 */
public final class TestClientMain {
    public static void main(String[] args) {
        IpcChannelFactory factory = System.getProperty("dir") == null ? new IpcChannelFactory()
                : IpcChannelFactory.builder().directory(java.nio.file.Path.of(System.getProperty("dir"))).build();
        try (IpcClient client = new IpcClient(factory, args[1])) {
            Duration timeout = Duration.ofSeconds(30);
            switch (args[0]) {
                case "echo" -> {
                    int count = Integer.parseInt(args[2]);
                    for (int i = 0; i < count; i++) {
                        byte[] request = ("pid " + ProcessHandle.current().pid() + " request " + i)
                                .getBytes(StandardCharsets.UTF_8);
                        byte[] response = client.sendAndReceive(request, timeout);
                        if (!Arrays.equals(request, response)) {
                            throw new AssertionError("request " + i + ": echo differs: "
                                    + new String(response, StandardCharsets.UTF_8));
                        }
                    }
                    System.out.println("OK " + count);
                }
                case "upload" -> {
                    long bytes = Long.parseLong(args[2]);
                    String expected = bytes + " " + Pattern.crc(bytes);
                    try (InputStream response = client.send(new IpcDataStream(Pattern.stream(bytes)), timeout)) {
                        String answer = new String(response.readAllBytes(), StandardCharsets.UTF_8);
                        if (!answer.equals(expected)) {
                            throw new AssertionError("server counted '" + answer + "', expected '" + expected + "'");
                        }
                    }
                    System.out.println("OK " + bytes + " heapMax " + Runtime.getRuntime().maxMemory());
                }
                case "download" -> {
                    long bytes = Long.parseLong(args[2]);
                    try (InputStream response = client.send(
                            new IpcDataBytes(Long.toString(bytes).getBytes(StandardCharsets.UTF_8)), timeout)) {
                        long received = Pattern.verify(response, new byte[256 * 1024]);
                        if (received != bytes) {
                            throw new AssertionError("received " + received + " bytes, expected " + bytes);
                        }
                    }
                    System.out.println("OK " + bytes + " heapMax " + Runtime.getRuntime().maxMemory());
                }
                case "upload-forever" -> {
                    // prints READY once a first megabyte is out, then streams until killed
                    InputStream endless = new InputStream() {
                        private long sent;

                        @Override
                        public int read() {
                            return 0;
                        }

                        @Override
                        public int read(byte[] b, int off, int len) {
                            if (sent < (1 << 20) && sent + len >= (1 << 20)) {
                                System.out.println("READY");
                                System.out.flush();
                            }
                            sent += len;
                            return len;
                        }
                    };
                    client.send(new IpcDataStream(endless), Duration.ofDays(1)).readAllBytes();
                    System.out.println("unexpected end");
                }
                case "slow-request" -> {
                    System.out.println("READY");
                    System.out.flush();
                    client.sendAndReceive("600000".getBytes(StandardCharsets.UTF_8), Duration.ofDays(1));
                }
                case "many" -> {
                    // N more clients (connections) of this process, all sending at once
                    int connections = Integer.parseInt(args[2]);
                    int requests = Integer.parseInt(args[3]);
                    java.util.List<Thread> threads = new java.util.ArrayList<>();
                    java.util.concurrent.atomic.AtomicLong answered = new java.util.concurrent.atomic.AtomicLong();
                    java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures =
                            new java.util.concurrent.ConcurrentLinkedQueue<>();
                    for (int c = 0; c < connections; c++) {
                        int connection = c;
                        threads.add(Thread.ofPlatform().start(() -> {
                            try (IpcClient own = new IpcClient(factory, args[1])) {
                                for (int i = 0; i < requests; i++) {
                                    byte[] request = ("connection " + connection + " request " + i)
                                            .getBytes(StandardCharsets.UTF_8);
                                    if (!Arrays.equals(request, own.sendAndReceive(request, timeout))) {
                                        throw new AssertionError("wrong echo on connection " + connection);
                                    }
                                    answered.incrementAndGet();
                                }
                            } catch (Throwable t) {
                                failures.add(t);
                            }
                        }));
                    }
                    for (Thread thread : threads) {
                        thread.join();
                    }
                    if (!failures.isEmpty()) {
                        throw new AssertionError(failures.size() + " connections failed", failures.peek());
                    }
                    System.out.println("OK " + answered.get());
                }
                case "soak" -> {
                    long[] counts = Soak.run(client, Long.parseLong(args[2]));
                    System.out.println("OK " + counts[0] + " requests " + counts[1] + " bytes");
                }
                case "expect-connect-failure" -> {
                    try {
                        client.send(IpcData.empty(), timeout);
                        System.out.println("UNEXPECTED: connected");
                    } catch (IpcConnectException e) {
                        System.out.println("CONNECT FAILED " + e.getMessage());
                    }
                    try {
                        System.out.println("FILES LEFT " + ChannelFiles.connections(factory, args[1]).size());
                    } catch (AssertionError unreadable) {
                        System.out.println("FILES LEFT unknown: the folder is not readable here");
                    }
                }
                default -> throw new IllegalArgumentException("unknown mode " + args[0]);
            }
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            t.printStackTrace(System.out);
            System.exit(1);
        }
        System.exit(0);
    }
}
