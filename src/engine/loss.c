#include "loss.h"
