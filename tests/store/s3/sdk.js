// The AWS SDK for JavaScript as an independent S3 client:
//   sdk.js ENDPOINT put BUCKET KEY FILE
//   sdk.js ENDPOINT mpu BUCKET KEY FILE PARTSIZE    (multipart upload)
//   sdk.js ENDPOINT get BUCKET KEY OUTFILE
//   sdk.js ENDPOINT list BUCKET PREFIX               (one key per line)
'use strict';
const fs = require('fs');
const s3 = require('@aws-sdk/client-s3');
const [endpoint, cmd, bucket, key, file, partSize] = process.argv.slice(2);
const client = new s3.S3Client({
  endpoint, region: 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});
async function main() {
  if (cmd === 'put') {
    await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(file) }));
  } else if (cmd === 'mpu') {
    const data = fs.readFileSync(file);
    const size = Number(partSize);
    const { UploadId } = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const parts = [];
    for (let i = 0, n = 1; i < data.length; i += size, n++) {
      const r = await client.send(new s3.UploadPartCommand({
        Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: data.subarray(i, i + size) }));
      parts.push({ ETag: r.ETag, PartNumber: n });
    }
    await client.send(new s3.CompleteMultipartUploadCommand({
      Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } else if (cmd === 'get') {
    const r = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
    fs.writeFileSync(file, Buffer.from(await r.Body.transformToByteArray()));
  } else if (cmd === 'list') {
    let token;
    do {
      const r = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
      for (const o of r.Contents || []) process.stdout.write(`${o.Key}\n`);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  } else {
    throw new Error(`unknown command ${cmd}`);
  }
}
main().catch((e) => { console.error(`sdk.js ${cmd}: ${e.name}: ${e.message}`); process.exit(1); });
