package ipc.connect.cli;

import ipc.connect.IpcChannelFactory;
import ipc.connect.IpcStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Lists the channels of a folder, their connections and counters, and stale files. */
@Command(name = "stat", mixinStandardHelpOptions = true,
        description = "List live channels, their connections (pid, age, counters) and stale files.")
final class StatCommand implements Callable<Integer> {
    @Option(names = {"-d", "--directory"}, description = "Channel folder (default: the library's default).")
    Path directory;

    @Override
    public Integer call() throws Exception {
        Path folder = directory != null ? directory : new IpcChannelFactory().directory();
        IpcStatus status = IpcStatus.snapshot(folder);
        System.out.println("Channels in " + folder + ": " + status.channels().size());
        int stale = 0;
        for (IpcStatus.Channel channel : status.channels()) {
            if (channel.problem() != null) {
                System.out.println("  " + channel.name() + "  unreadable: " + channel.problem());
                continue;
            }
            String state = channel.stale() ? "STALE (server gone)" : channel.open() ? "listening" : "closing";
            System.out.printf(Locale.ROOT, "  %s  server pid %d  %s  ring %s  connections %d/%d%n", channel.name(),
                    channel.serverPid(), state, bytes(channel.ringCapacity()), channel.connections().size(),
                    channel.maxConnections());
            stale += channel.stale() ? 1 : 0;
            for (IpcStatus.Connection c : channel.connections()) {
                if (c.problem() != null) {
                    System.out.println("    " + c.id() + "  unreadable: " + c.problem());
                    continue;
                }
                stale += c.stale() ? 1 : 0;
                System.out.printf(Locale.ROOT,
                        "    %s  client pid %d%s  age %s  requests %d sent / %d received  request bytes %s / %s"
                                + "  response bytes %s / %s  timeouts %d  failures %d  handler errors %d%n",
                        c.id(), c.clientPid(), c.stale() ? " (gone: STALE)" : c.accepted() ? "" : " (not accepted)",
                        age(c.age()), c.requestsSent(), c.requestsReceived(), bytes(c.requestBytesSent()),
                        bytes(c.requestBytesReceived()), bytes(c.responseBytesSent()),
                        bytes(c.responseBytesReceived()), c.timeouts(), c.failures(), c.handlerErrors());
            }
        }
        if (stale > 0) {
            System.out.println(stale + " stale file(s): a crashed process left them; the next listen or connect on"
                    + " the channel removes them.");
        }
        return 0;
    }

    private static String age(Duration age) {
        long seconds = age.toSeconds();
        return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
    }

    private static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        int unit = (63 - Long.numberOfLeadingZeros(bytes)) / 10;
        return String.format(Locale.ROOT, "%.1f %siB", bytes / (double) (1L << (unit * 10)), " KMGTPE".charAt(unit));
    }
}
