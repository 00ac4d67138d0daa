/* Native F16 / Q8_0 one-token matmul over a ring of matrices: ROWS COLS RING_MB [f16]; one thread. See README.md. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
int flexq_gemv_q8_0(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y);
int flexq_gemv_f16(const uint8_t *w, long rowBytes, int cols, int r0, int r1, const float *x, float *y);
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int rows=atoi(argv[1]), cols=atoi(argv[2]); long ringmb=atol(argv[3]); int f16=argc>4;
  long rb = f16 ? 2L*cols : cols/32*34; long mbytes=rb*rows; int n=(int)(ringmb*1048576/mbytes); if(n<1)n=1;
  uint8_t **w=malloc(sizeof(void*)*n); for(int i=0;i<n;i++){w[i]=malloc(mbytes); for(long j=0;j<mbytes;j++) w[i][j]=(j%34<2)?0x10:rand();}
  float *x=malloc(4*cols); for(int i=0;i<cols;i++)x[i]=1; float*y=malloc(4*rows);
  int iters=0; double t0=now(),t;
  do{ for(int i=0;i<n;i++) (f16?flexq_gemv_f16:flexq_gemv_q8_0)(w[i],rb,cols,0,rows,x,y); iters+=n; t=now(); }while(t-t0<1);
  double us=(t-t0)/iters*1e6; printf("%s %dx%d ring %ld: %.1f us, %.2f GB/s\n", f16?"f16":"q8_0", rows,cols,ringmb,us,mbytes/us/1e3);
}
