// Package source serves originals from object storage and shares variants
// between replicas, through gocloud.dev/blob (one API for S3 and
// S3-compatible stores, Google Cloud Storage, Azure Blob, local files and
// memory).
//
// A Bucket is an fs.FS for handler.Config.Files. It differs from the
// fs.FS that *blob.Bucket already implements in four ways that a file
// server needs:
//
//   - Opening an object costs one metadata request (S3 HEAD), never a read
//     of its body. Stat, HEAD requests and conditional requests (304) are
//     answered from that metadata; bytes are fetched only by Read, as
//     ranged reads (S3 GET with a Range header) starting where the reader
//     was seeked to, so a Range request on a large original fetches the
//     range and not the object.
//   - Metadata is cached briefly (Config.MetadataTTL, default 1s, bounded
//     to Config.MetadataEntries objects), so a warm original costs one
//     ranged read and no metadata round trip. An object replaced in the
//     bucket is served with its old size and modification time for at most
//     MetadataTTL; a ranged read that finds the object changed fails with
//     ErrChanged and drops the cached entry, so a changed object is never
//     served as a mix of two versions.
//   - Buckets that Open and OpenStore open from s3:// URLs read by GETs on
//     presigned URLs (signed by the driver, blob.Bucket.SignedURL, once a
//     minute per key) sent through the S3 client's HTTP client: less than
//     half the CPU of the SDK's GetObject. A response the plain request
//     cannot use (a 5xx, a network error) is read again through the
//     driver, with the SDK's retries; a store that refuses presigned URLs
//     is read through the driver from then on. Buckets given to New and
//     NewStore always read through their driver.
//   - Failures are classified: a missing object is fs.ErrNotExist; a store
//     that fails or does not answer within Config.Timeout is
//     ErrUnavailable, whose text holds neither the store's error text nor
//     a key. The handler answers them 404 and 503 "source unavailable".
//
// A Store is the shared variant store: replicas look a variant up there
// after their own memory misses, and write what they compute to it in the
// background. Entries never expire on their own; a bucket lifecycle rule
// expires them (see the deployment guide, docs/deployment.md).
//
// Open and OpenStore take bucket URLs and use gocloud.dev/blob's default
// URL opener, which knows the drivers the program links: import
// gocloud.dev/blob/s3blob, fileblob, memblob, gcsblob or azureblob for the
// schemes s3://, file://, mem://, gs:// and azblob://. keyhole serve links
// s3, file and mem.
package source
