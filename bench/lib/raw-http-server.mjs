// A bare node:http server for the raw HTTP limit: reads a small JSON body, parses it, answers 200.
// Runs in its own process so the load generator does not share its event loop.
import http from 'node:http';

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    JSON.parse(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"success":true}');
  });
});
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
