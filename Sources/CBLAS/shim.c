#include "cssblas.h"
