#include <string.h>

int count_char(const char *s, char c) {
    int n = 0;
    for (size_t i = 0; i <= strlen(s); i++) {
        if (s[i] == c) n++;
    }
    return n;
}

int is_empty(const char *s) {
    return s[0] == 0;
}
