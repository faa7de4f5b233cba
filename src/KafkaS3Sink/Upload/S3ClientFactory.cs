using Amazon.Runtime;
using Amazon.S3;

namespace KafkaS3Sink.Upload;

internal static class S3ClientFactory
{
    public static IAmazonS3 Create(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,

            // The sink's RetryRunner retries every request (counted, logged, shown in status); SDK retries
            // underneath it would be invisible and would multiply the attempts.
            MaxErrorRetry = 0,
            Timeout = options.RequestTimeout,

            // S3-compatible stores (Ceph RGW, MinIO) reject the SDK's default trailing checksums;
            // "when required" is what AWS itself needs.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUrl is not null)
        {
            config.ServiceURL = options.ServiceUrl.ToString();
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        return options.AccessKeyId is not null
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config)
            : new AmazonS3Client(config);
    }
}
