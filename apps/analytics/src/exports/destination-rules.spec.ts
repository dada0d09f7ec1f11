import { describe, expect, it } from 'vitest';
import { checkBucketName, checkEndpointUrl } from './destination-rules';

describe('destination rules', () => {
  it('accepts https, refuses http except localhost in dev mode', () => {
    expect(checkEndpointUrl('url', 'https://hooks.example.com/x', false)).toEqual([]);
    expect(checkEndpointUrl('url', 'http://hooks.example.com/x', true)[0]!.message).toMatch(/https/);
    expect(checkEndpointUrl('url', 'http://127.0.0.1:8080/x', false)[0]!.message).toMatch(/dev mode/);
    expect(checkEndpointUrl('url', 'http://127.0.0.1:8080/x', true)).toEqual([]);
    expect(checkEndpointUrl('url', 'ftp://example.com', true)[0]!.message).toBe('must be an https URL');
    expect(checkEndpointUrl('url', 'not a url', true)[0]!.message).toBe('must be an absolute URL');
    expect(checkEndpointUrl('url', 'https://u:p@example.com', true)[0]!.message).toMatch(/credentials/);
  });

  it('applies S3 bucket naming rules', () => {
    expect(checkBucketName('b', 'tessera-exports.eu')).toEqual([]);
    expect(checkBucketName('b', 'ab')).toHaveLength(1);
    expect(checkBucketName('b', 'Bad_Bucket')).toHaveLength(1);
    expect(checkBucketName('b', 'a..b')).toHaveLength(1);
    expect(checkBucketName('b', '192.168.1.1')).toHaveLength(1);
  });
});
