package ipc.connect.cli;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcDataBytes;
import ipc.connect.IpcDataStream;
import ipc.connect.IpcServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Listens on a channel until interrupted (or, with --until-stdin-closes, until its input closes). */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Listen on a channel: echo each request (default) or discard it and answer its length.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = {"-c", "--channel"}, required = true, description = "Channel name.")
    String channel;

    @ArgGroup(exclusive = true)
    Mode mode = new Mode();

    static final class Mode {
        @Option(names = "--echo", description = "Stream each request back (default).")
        boolean echo;

        @Option(names = "--discard", description = "Read each request to its end, answer its length in bytes.")
        boolean discard;
    }

    @Option(names = "--until-stdin-closes", hidden = true, description = "Stop when standard input closes.")
    boolean untilStdinCloses;

    @Override
    public Integer call() throws Exception {
        try (IpcServer server = new IpcServer(new IpcChannelFactory())) {
            server.listen(channel, request -> {
                if (mode.discard) {
                    long length = request.transferTo(OutputStream.nullOutputStream());
                    return new IpcDataBytes(Long.toString(length).getBytes(StandardCharsets.UTF_8));
                }
                return new IpcDataStream(request);
            });
            System.out.println("READY listening on '" + channel + "' (" + (mode.discard ? "discard" : "echo")
                    + "); Ctrl-C to stop");
            System.out.flush();
            awaitStop(untilStdinCloses);
        }
        return 0;
    }

    /** Blocks until standard input closes (if asked) or forever (until the JVM is interrupted). */
    static void awaitStop(boolean untilStdinCloses) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        if (untilStdinCloses) {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    System.in.transferTo(OutputStream.nullOutputStream());
                } catch (java.io.IOException ignored) {
                    // parent gone
                }
                stop.countDown();
            });
        }
        stop.await();
    }
}
