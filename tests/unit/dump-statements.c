/*
 * dump-statements - prints every prepared statement of statements.c, one a
 * line: name, a tab, the number of parameters, a tab, the SQL (which has no
 * newline or tab). tests/integration/test_dba.py plans each one.
 */
#include <stdio.h>

#include "statements.h"

int main(void)
{
	for (int i = 0; i < STMT__COUNT; i++)
		printf("%s\t%d\t%s\n", statements[i].name, statements[i].nparams, statements[i].sql);
	return 0;
}
