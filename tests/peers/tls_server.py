"""An HTTPS server with a self-signed certificate, for the tests.

    python tls_server.py CERT KEY

Prints the port it listens on (127.0.0.1), then answers GETs until killed.
A client that checks certificates must refuse it.
"""

import http.server
import ssl
import sys

server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
