/*
 * fcgi-constant - the FastCGI ceiling for bench/api.sh: a libfcgi responder
 * that answers every request with the same small JSON, no database, no auth.
 * Pre-forks N processes on one unix socket, as adcraft-api does.
 *
 *   fcgi-constant SOCKET_PATH [PROCESSES]
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char response[] =
	"Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n"
	"{\"status\":\"ok\",\"const\":true}";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: fcgi-constant SOCKET_PATH [PROCESSES]\n", stderr);
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 4;
	unlink(argv[1]);
	FCGX_Init();
	int fd = FCGX_OpenSocket(argv[1], 1024);
	if (fd < 0) {
		perror("FCGX_OpenSocket");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < n; i++) {
		if (fork() == 0) {
			FCGX_Request req;
			FCGX_InitRequest(&req, fd, 0);
			while (FCGX_Accept_r(&req) >= 0) {
				FCGX_PutStr(response, (int)sizeof(response) - 1, req.out);
				FCGX_Finish_r(&req);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	return 0;
}
