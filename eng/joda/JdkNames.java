// Dumps the names Joda-Time prints for Kafka Connect's `locale` setting (new Locale(s): the whole string is the
// language) on the JDK it runs on: month, day, half-day and era texts, and time-zone short names (`z`), so the
// sink can print the connector's keys without a JVM. Output (UTF-8, tab-separated), read by
// src/KafkaS3Sink/Partitioning/JdkNames.cs:
//   V <java.version> <joda version>
//   A <zone id> <Joda's canonical id>                      for every id Joda accepts that is an alias
//   T <language> <MMMM x12> <MMM x12> <EEEE x7> <EEE x7> <AM> <PM> <era>   (days Sunday first; "root" = the
//                                                             root locale, which languages without data fall back to)
//   Z <language> <zone id> <short standard> <short daylight>  ("en": every zone with names; other languages only
//                                                             where they differ from English, "-" where the
//                                                             language has no names for the zone)
// Run by eng/joda/generate-jdk-names.sh.
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.text.DateFormatSymbols;
import java.util.*;
import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.joda.time.format.DateTimeFormat;

public final class JdkNames {
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        out.println("V\t" + System.getProperty("java.version") + "\t" + DateTimeZone.class.getPackage().getImplementationVersion());
        TreeSet<String> ids = new TreeSet<>(DateTimeZone.getAvailableIDs());
        for (String id : ids) {
            String canonical = DateTimeZone.forID(id).getID();
            if (!canonical.equals(id)) {
                out.println("A\t" + id + "\t" + canonical);
            }
        }
        TreeSet<String> languages = new TreeSet<>();
        languages.add("");
        for (Locale l : Locale.getAvailableLocales()) {
            if (!l.getLanguage().isEmpty()) {
                languages.add(l.getLanguage());
            }
        }
        Map<String, String[]> english = zoneNames(Locale.ENGLISH, ids);
        for (String language : languages) {
            Locale locale = new Locale(language);
            StringBuilder t = new StringBuilder("T\t").append(name(language));
            for (String pattern : new String[] {"MMMM", "MMM"}) {
                for (int m = 1; m <= 12; m++) {
                    t.append('\t').append(print(pattern, locale, new DateTime(2025, m, 15, 12, 0, DateTimeZone.UTC)));
                }
            }
            for (String pattern : new String[] {"EEEE", "EEE"}) {
                for (int d = 0; d < 7; d++) {
                    // 2025-06-01 is a Sunday.
                    t.append('\t').append(print(pattern, locale, new DateTime(2025, 6, 1 + d, 12, 0, DateTimeZone.UTC)));
                }
            }
            t.append('\t').append(print("a", locale, new DateTime(2025, 6, 1, 1, 0, DateTimeZone.UTC)));
            t.append('\t').append(print("a", locale, new DateTime(2025, 6, 1, 13, 0, DateTimeZone.UTC)));
            t.append('\t').append(print("G", locale, new DateTime(2025, 6, 1, 13, 0, DateTimeZone.UTC)));
            out.println(t);
        }
        for (Map.Entry<String, String[]> e : english.entrySet()) {
            out.println("Z\ten\t" + e.getKey() + "\t" + e.getValue()[0] + "\t" + e.getValue()[1]);
        }
        for (String language : languages) {
            Map<String, String[]> names = zoneNames(new Locale(language), ids);
            for (String id : english.keySet()) {
                String[] n = names.get(id);
                String[] en = english.get(id);
                if (n == null) {
                    out.println("Z\t" + name(language) + "\t" + id + "\t-\t-");
                } else if (!n[0].equals(en[0]) || !n[1].equals(en[1])) {
                    out.println("Z\t" + name(language) + "\t" + id + "\t" + n[0] + "\t" + n[1]);
                }
            }
        }
        out.flush();
    }

    private static String name(String language) {
        return language.isEmpty() ? "root" : language;
    }

    private static String print(String pattern, Locale locale, DateTime time) {
        String s = DateTimeFormat.forPattern(pattern).withLocale(locale).print(time);
        if (s.indexOf('\t') >= 0 || s.indexOf('\n') >= 0) {
            throw new IllegalStateException(pattern + " in " + locale + ": " + s);
        }
        return s;
    }

    /** Joda's DefaultNameProvider: the JDK's zone strings row for the id (without "Etc/"), in English and in the locale. */
    private static Map<String, String[]> zoneNames(Locale locale, Set<String> ids) {
        Map<String, String[]> rows = new HashMap<>();
        for (String[] row : DateFormatSymbols.getInstance(locale).getZoneStrings()) {
            if (row != null && row.length >= 5 && !rows.containsKey(row[0])) {
                rows.put(row[0], row);
            }
        }
        Map<String, String[]> result = new TreeMap<>();
        for (String id : ids) {
            String key = id.startsWith("Etc/") ? id.substring(4) : id;
            String[] row = rows.get(key);
            if (row != null) {
                result.put(id, new String[] {row[2], row[4]});
            }
        }
        return result;
    }
}
