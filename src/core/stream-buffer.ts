/**
 * The buffer of each stage an upload flows through (the multipart parser and its file stream,
 * the probe). A socket read delivers up to 64 KiB: with Node's default of 16 KiB, every chunk
 * fills a stage and pauses the ones before it until it drains, a pause and a resume per chunk
 * along the whole path. A few chunks fit in this, and a handful of such buffers is still all
 * an upload holds in memory, whatever the file's size.
 */
export const STREAM_BUFFER_BYTES = 256 * 1024;
