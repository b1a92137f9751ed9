package ipc.connect;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.zip.CRC32C;

/**
 * A server process for the tests: {@code TestServerMain <base> [ringCapacity [maxRequestBytes]]}. It listens on several channels named {@code <base>.<behaviour>} and prints
 * {@code READY} once all listen; it exits when its standard input closes (or it is killed).
 * <ul>
 *   <li>{@code echo}: streams the request back while it arrives;</li>
 *   <li>{@code bytes}: reads the whole request, answers it as bytes;</li>
 *   <li>{@code count}: reads the request, answers {@code "<length> <crc32c>"};</li>
 *   <li>{@code generate}: the request is a decimal length N; answers N bytes of {@link Pattern};</li>
 *   <li>{@code fail}: throws {@code IllegalArgumentException("refused: <request>")};</li>
 *   <li>{@code slow}: the request is a delay in ms; sleeps, then answers {@code "late <ms>"};</li>
 *   <li>{@code early}: reads at most 10 bytes, closes the request, answers {@code "early"};</li>
 *   <li>{@code connections}: the request names a behaviour (empty: {@code echo}); answers the number of open
 *       connections on that channel;</li>
 *   <li>{@code soak}: checks the request's CRC trailer, answers a random body with its own ({@link Soak});</li>
 *   <li>{@code mode}: answers how this process sleeps ({@code Signal.waitName()}: {@code futex} or {@code fallback}
 *       here);</li>
 *   <li>{@code lastfailure}: answers the last exception a {@code count} handler met reading its request, or a
 *       {@code write} writer met writing its response;</li>
 *   <li>{@code write}: the request is {@code "<length> <writeSize>"}; answers that many {@link Pattern} bytes through
 *       an {@link IpcDataWriter} writing {@code writeSize} bytes at a time, or, for {@code "fail <length>"}, writes
 *       that many and throws {@code IllegalStateException("writer failed after <length>")}, or for
 *       {@code "streamfail <length>"} answers an {@code IpcDataStream} whose source throws
 *       {@code IllegalStateException("source failed after <length>")} there, or for {@code "error"} answers a
 *       writer that throws {@code AssertionError("writer broke")};</li>
 *   <li>{@code viewcount}: like {@code count}, reading the request through {@link IpcInputStream#readView};</li>
 *   <li>{@code viewecho}: reads the first MiB of the request by views, then answers it and the rest of the request,
 *       read by views as it is written back, through an {@link IpcDataWriter};</li>
 *   <li>{@code viewthenbytes}: reads the request by views until one is in place, then answers 8 MiB of
 *       {@link Pattern} bytes at once;</li>
 *   <li>{@code viewhold}: reads the request by views; holds the first one in place for the milliseconds the
 *       request's first 8 bytes (a big-endian long) give, then reads on; answers {@code "<bytes read> <held>"};</li>
 *   <li>{@code viewkinds}: like {@code viewcount} with views of up to 1 MiB, answering
 *       {@code "<length> <crc> <direct views> <heap views>"}: how many views were of shared memory;</li>
 *   <li>{@code thread}: answers {@code "<thread id> <interrupted> <virtual>"} of the thread running it (whether it
 *       was interrupted when the handler began), then leaves that thread interrupted if it is virtual.</li>
 * </ul>
 */
public final class TestServerMain {
    private static volatile String lastFailure = "";
    public static void main(String[] args) throws Exception {
        String base = args[0];
        IpcChannelFactory.Builder settings = IpcChannelFactory.builder();
        if (args.length > 1) {
            settings.ringCapacity(Integer.parseInt(args[1]));
        }
        if (args.length > 2) {
            settings.maxRequestBytes(Long.parseLong(args[2]));
        }
        IpcChannelFactory factory = settings.build();
        try (IpcServer server = new IpcServer(factory, Boolean.getBoolean("inline") ? IpcServer.DIRECT : null)) {
            server.listen(base + ".echo", request -> new IpcDataStream(request));
            server.listen(base + ".bytes", request -> new IpcDataBytes(request.readAllBytes()));
            server.listen(base + ".count", request -> {
                long[] result;
                try {
                    result = countAndCrc(request);
                } catch (IOException e) {
                    lastFailure = e.getClass().getName() + ": " + e.getMessage();
                    throw e;
                }
                return new IpcDataBytes((result[0] + " " + result[1]).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".soak", request -> Soak.answer(request.readAllBytes()));
            server.listen(base + ".mode", request -> new IpcDataBytes(
                    ipc.connect.internal.signal.Signal.waitName().getBytes(StandardCharsets.UTF_8)));
            server.listen(base + ".lastfailure", request -> new IpcDataBytes(
                    lastFailure.getBytes(StandardCharsets.UTF_8)));
            server.listen(base + ".write", request -> {
                String[] words = new String(request.readAllBytes(), StandardCharsets.UTF_8).trim().split(" ");
                if (words[0].equals("streamfail")) {
                    long length = Long.parseLong(words[1]);
                    return new IpcDataStream(Pattern.failingAtEnd(length,
                            () -> new IllegalStateException("source failed after " + length)));
                }
                if (words[0].equals("error")) {
                    return IpcData.writer(out -> {
                        throw new AssertionError("writer broke");
                    });
                }
                if (words[0].equals("fail")) {
                    long length = Long.parseLong(words[1]);
                    return IpcData.writer(out -> {
                        Pattern.write(out, length, 4096);
                        throw new IllegalStateException("writer failed after " + length);
                    });
                }
                long length = Long.parseLong(words[0]);
                int writeSize = Integer.parseInt(words[1]);
                return IpcData.writer(out -> {
                    try {
                        Pattern.write(out, length, writeSize);
                    } catch (IOException e) {
                        lastFailure = e.getClass().getName() + ": " + e.getMessage();
                        throw e;
                    }
                });
            });
            server.listen(base + ".viewcount", request -> {
                CRC32C crc = new CRC32C();
                long total = 0;
                java.util.SplittableRandom random = new java.util.SplittableRandom(7);
                java.nio.ByteBuffer view;
                while ((view = ((IpcInputStream) request).readView(1 + random.nextInt(300_000))) != null) {
                    total += view.remaining();
                    crc.update(view);
                }
                return IpcData.of((total + " " + crc.getValue()).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".viewecho", request -> {
                IpcInputStream in = (IpcInputStream) request;
                java.io.ByteArrayOutputStream first = new java.io.ByteArrayOutputStream();
                java.nio.ByteBuffer view;
                while (first.size() < 1 << 20 && (view = in.readView((1 << 20) - first.size())) != null) {
                    byte[] bytes = new byte[view.remaining()];
                    view.get(bytes);
                    first.write(bytes);
                }
                return IpcData.writer(out -> {
                    first.writeTo(out);
                    byte[] bytes = new byte[1 << 20];
                    java.nio.ByteBuffer next;
                    while ((next = in.readView(bytes.length)) != null) {
                        int n = next.remaining();
                        next.get(bytes, 0, n); // the view stays held while the write below waits for window
                        out.write(bytes, 0, n);
                    }
                });
            });
            server.listen(base + ".viewthenbytes", request -> {
                java.nio.ByteBuffer view;
                do {
                    view = ((IpcInputStream) request).readView(1 << 20);
                } while (view != null && !view.isDirect()); // until one is lent in place (or the end)
                return new IpcDataBytes(Pattern.bytes(0, 8 << 20));
            });
            server.listen(base + ".viewhold", request -> {
                IpcInputStream in = (IpcInputStream) request;
                java.nio.ByteBuffer view = in.readView(1 << 20);
                long total = 0;
                long millis = view == null ? 0 : view.getLong(0);
                boolean held = false;
                for (; view != null; view = in.readView(1 << 20)) {
                    total += view.remaining();
                    if (!held && view.isDirect()) {
                        held = true;
                        Thread.sleep(millis);
                    }
                }
                return IpcData.of((total + " " + held).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".viewkinds", request -> {
                CRC32C crc = new CRC32C();
                long total = 0;
                int direct = 0;
                int heap = 0;
                java.nio.ByteBuffer view;
                while ((view = ((IpcInputStream) request).readView(1 << 20)) != null) {
                    total += view.remaining();
                    if (view.isDirect()) {
                        direct++;
                    } else {
                        heap++;
                    }
                    crc.update(view);
                }
                return IpcData.of((total + " " + crc.getValue() + " " + direct + " " + heap)
                        .getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".generate", request -> {
                long length = Long.parseLong(new String(request.readAllBytes(), StandardCharsets.UTF_8).trim());
                return new IpcDataStream(Pattern.stream(length));
            });
            server.listen(base + ".fail", request -> {
                throw new IllegalArgumentException("refused: "
                        + new String(request.readAllBytes(), StandardCharsets.UTF_8));
            });
            server.listen(base + ".slow", request -> {
                long millis = Long.parseLong(new String(request.readAllBytes(), StandardCharsets.UTF_8).trim());
                Thread.sleep(millis);
                return new IpcDataBytes(("late " + millis).getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".early", request -> {
                request.readNBytes(10);
                request.close();
                return new IpcDataBytes("early".getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".connections", request -> {
                String of = new String(request.readAllBytes(), StandardCharsets.UTF_8);
                return new IpcDataBytes(Integer.toString(server.connectionCount(base + "." + (of.isEmpty() ? "echo" : of)))
                        .getBytes(StandardCharsets.UTF_8));
            });
            server.listen(base + ".thread", request -> {
                request.skip(Long.MAX_VALUE);
                Thread thread = Thread.currentThread();
                String answer = thread.threadId() + " " + thread.isInterrupted() + " " + thread.isVirtual();
                if (thread.isVirtual()) {
                    thread.interrupt(); // left for whatever the thread runs next
                }
                return new IpcDataBytes(answer.getBytes(StandardCharsets.UTF_8));
            });
            System.out.println("READY");
            System.out.flush();
            CountDownLatch stdinClosed = new CountDownLatch(1);
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    System.in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // parent gone
                }
                stdinClosed.countDown();
            });
            stdinClosed.await();
        }
    }

    /** {length, crc32c} of a stream read to its end. */
    static long[] countAndCrc(InputStream in) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buffer)) >= 0) {
            crc.update(buffer, 0, n);
            total += n;
        }
        return new long[] {total, crc.getValue()};
    }
}
