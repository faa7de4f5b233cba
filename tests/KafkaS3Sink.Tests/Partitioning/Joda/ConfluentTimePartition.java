// Confluent's TimeBasedPartitioner arithmetic (kafka-connect-storage-common: configure, getPartition,
// encodePartition) on real Joda-Time, for the differential test. Reads tab-separated cases from stdin:
//   zone, partition.duration.ms, timestamp (UTC ms), path.format, locale
// and prints, per case, the encoded partition and the zone's offsets (ms) at the timestamp and the bucket start
// (UTC ms) with its offset, tab-separated (so the test can tell tz-data differences from arithmetic ones), or "ERR <exception>".
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.joda.time.format.DateTimeFormat;
import org.joda.time.format.DateTimeFormatter;

public final class ConfluentTimePartition {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split("\t", -1);
            try {
                DateTimeZone zone = DateTimeZone.forID(f[0]);
                long duration = Long.parseLong(f[1]);
                long timestamp = Long.parseLong(f[2]);
                String pathFormat = f[3];
                // configure(): one trailing delimiter is stripped.
                if (pathFormat.endsWith("/")) {
                    pathFormat = pathFormat.substring(0, pathFormat.length() - 1);
                }
                DateTimeFormatter formatter = DateTimeFormat.forPattern(pathFormat).withZone(zone).withLocale(new Locale(f[4]));
                // getPartition(): Java's truncating division on local milliseconds, then back to UTC.
                long adjusted = zone.convertUTCToLocal(timestamp);
                long partitioned = (adjusted / duration) * duration;
                long bucket = zone.convertLocalToUTC(partitioned, false);
                out.println(new DateTime(bucket).toString(formatter) + "\t" + zone.getOffset(timestamp) + "\t" + bucket + "\t" + zone.getOffset(bucket));
            } catch (Exception e) {
                out.println("ERR " + e.getClass().getSimpleName());
            }
        }
        out.flush();
    }
}
