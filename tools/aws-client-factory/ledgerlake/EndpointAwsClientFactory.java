package ledgerlake;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.aws.AwsClientFactory;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.glue.GlueClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * Iceberg's AWS clients with every endpoint overridable, for tests against a
 * local AWS (moto). Iceberg 1.0.0's default factory takes s3.endpoint and
 * dynamodb.endpoint but no Glue endpoint (glue.endpoint came in later
 * releases), and AWS SDK 2.17 reads no endpoint from the environment
 * (AWS_ENDPOINT_URL_GLUE came in later 2.x releases). Catalog property `client.factory=ledgerlake.EndpointAwsClientFactory`
 * selects it; it reads the property names later Iceberg versions use:
 * glue.endpoint, s3.endpoint, s3.path-style-access, kms.endpoint,
 * dynamodb.endpoint. Region and credentials come from the SDK's default
 * chains (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
 */
public class EndpointAwsClientFactory implements AwsClientFactory {
  private HashMap<String, String> properties = new HashMap<>();

  @Override
  public void initialize(Map<String, String> catalogProperties) {
    properties = new HashMap<>(catalogProperties);
  }

  @Override
  public S3Client s3() {
    boolean pathStyle = Boolean.parseBoolean(properties.getOrDefault("s3.path-style-access", "false"));
    return configured(S3Client.builder(), "s3.endpoint")
        .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build())
        .build();
  }

  @Override
  public GlueClient glue() {
    return configured(GlueClient.builder(), "glue.endpoint").build();
  }

  @Override
  public KmsClient kms() {
    return configured(KmsClient.builder(), "kms.endpoint").build();
  }

  @Override
  public DynamoDbClient dynamo() {
    return configured(DynamoDbClient.builder(), "dynamodb.endpoint").build();
  }

  private <B extends AwsClientBuilder<B, ?> & SdkSyncClientBuilder<B, ?>> B configured(
      B builder, String endpointProperty) {
    builder.httpClientBuilder(UrlConnectionHttpClient.builder());
    String endpoint = properties.get(endpointProperty);
    if (endpoint != null && !endpoint.isEmpty()) builder.endpointOverride(URI.create(endpoint));
    return builder;
  }
}
