// One metadata round trip to a Kafka broker with the AdminClient from the downloaded Kafka jars.
// Fallback for ops/infra-up.sh when node_modules/kafkajs is absent; ops/infra-lib.sh compiles it once with javac
// against the downloaded Kafka jars and runs `java -cp classes:libs/* WaitKafka 127.0.0.1:19092`.
// Exit 0 when DescribeCluster returns at least one broker, 1 otherwise.
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class WaitKafka {
  public static void main(String[] args) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args.length > 0 ? args[0] : "127.0.0.1:19092");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, "2000");
    p.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, "2000");
    try (Admin admin = Admin.create(p)) {
      int n = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
      if (n == 0) { System.err.println("no brokers in metadata"); System.exit(1); }
      System.out.println("kafka ok: brokers=" + n);
      System.exit(0);
    } catch (Exception e) {
      System.err.println("kafka not ready: " + e);
      System.exit(1);
    }
  }
}
